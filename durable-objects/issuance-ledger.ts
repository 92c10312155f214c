import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/config/env";
import { LedgerStore, type IssuedBatch, type LedgerRow, type StatusChange, type StatusSlot } from "../src/status/ledger-store";
import type { StatusValue } from "../src/status/status-values";

/**
 * IssuanceLedger: the Token Status Lists and the issuance ledger, spread over LEDGER_SHARDS objects by
 * a hash of the person's ledger pseudonym (src/status/ledger.ts picks the object; the storage and why
 * lists and ledger share it are in src/status/ledger-store.ts).
 *
 * Why a Durable Object and not D1 (docs/credential-status.md): the ledger is written on the issuance
 * path, and the register's D1 database is the very backend the waiting room protects; one object per
 * shard gives each write a single-threaded, transactional home, and the index counter needs exactly
 * that. Every method is synchronous storage work with no await, so concurrent calls are decided one
 * after the other.
 */
export class IssuanceLedger extends DurableObject<Env> {
  readonly #store: LedgerStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new LedgerStore(ctx.storage.sql);
  }

  /** Indices for a credential request's whole batch, with their ledger rows (one call per request). */
  async record(batch: IssuedBatch): Promise<StatusSlot[]> {
    return this.#store.record(batch);
  }

  async credentialsOf(person: string): Promise<LedgerRow[]> {
    return this.#store.credentialsOf(person);
  }

  async setStatus(slots: StatusSlot[], status: StatusValue, now: number): Promise<StatusChange> {
    return this.#store.setStatus(slots, status, now);
  }

  async setPersonStatus(person: string, status: StatusValue, now: number): Promise<StatusChange> {
    return this.#store.setPersonStatus(person, status, now);
  }

  async listBits(generation: number): Promise<Uint8Array | null> {
    return this.#store.listBits(generation);
  }
}
