import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/config/env";
import { AuditStore, type AuditEntry, type NewAuditEntry } from "../src/lifecycle/audit-store";

/**
 * LifecycleLog: one object per deployment (named "lifecycle"), holding the operators' audit log of
 * credential status changes and the cursor of the licence register's change log (src/lifecycle/).
 *
 * Why a Durable Object and not D1: the log must be written in the request that makes the change and
 * read back at once (strongly consistent), and the sync cursor needs a lease two overlapping cron runs
 * cannot both take; a single object gives both with no extra database to create per deployment (the
 * register's D1 is the national register's, which the issuer only reads). The volume is the operators'
 * (a few changes a minute, the register's daily changes), far below what one object serves.
 *
 * Every method reads and writes with no await in between, so concurrent calls see each other's rows.
 */
export class LifecycleLog extends DurableObject<Env> {
  readonly #store: AuditStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new AuditStore(ctx.storage);
  }

  record(entries: NewAuditEntry[]): number[] {
    return this.#store.append(entries);
  }

  page(before: number | null, limit: number): AuditEntry[] {
    return this.#store.page(before, limit);
  }

  beginSync(leaseId: string, now: number, leaseMs: number): number | null {
    return this.#store.beginSync(leaseId, now, leaseMs);
  }

  endSync(leaseId: string, cursor: number): boolean {
    return this.#store.endSync(leaseId, cursor);
  }

  cursor(): number {
    return this.#store.cursor();
  }
}
