import { required, type Env } from "../config/env";
import { hashedShard, ledgerAt } from "../edge/objects";
import { personPseudonym } from "../identity/pseudonym";
import type { CredentialFormat, LedgerRow, StatusChange, StatusSlot } from "./ledger-store";
import { LEDGER_SHARDS, listName, parseListName, statusListUri, type StatusValue } from "./status-values";

/**
 * The status and ledger store as the rest of the Worker uses it (issuance, the status list route, and
 * the lifecycle's admin operations). Lists and people are named here the way they are named outside:
 * a list by its public name (`${shard}-${generation}`, the last segment of its `uri`), a person by a
 * ledger pseudonym that never leaves the service.
 */

/**
 * The ledger's pseudonym of a person: HMAC(PSEUDONYM_KEY, "#ledger", person id). Not the queue's
 * per-room pseudonym: a licence is one person's whatever room they queued in, and an operator who
 * suspends a person knows their id, not a room. "#" cannot occur in a room name, so the two families
 * of pseudonyms never meet.
 */
export async function ledgerPseudonym(env: Env, personId: string): Promise<string> {
  return personPseudonym(required(env, "PSEUDONYM_KEY"), "#ledger", personId);
}

async function shardOfPerson(person: string): Promise<number> {
  return hashedShard(person, LEDGER_SHARDS);
}

/** A credential's entry as a credential carries it: `status.status_list = {idx, uri}`. */
export interface StatusReference {
  readonly list: string;
  readonly idx: number;
  readonly uri: string;
}

/** One credential of the ledger, as the lifecycle operations see it. */
export interface LedgerEntry {
  readonly list: string;
  readonly idx: number;
  readonly format: CredentialFormat;
  readonly configuration: string;
  readonly issuedAt: number;
  readonly sessionId: string;
  readonly status: StatusValue;
  readonly statusChangedAt: number | null;
}

/** A credential by its list's public name and its index there. */
export interface ListEntry {
  readonly list: string;
  readonly idx: number;
}

/** StatusChange with entries named by list: changed, already so, never issued, revoked for good. */
export interface ListStatusChange {
  readonly changed: ListEntry[];
  readonly unchanged: ListEntry[];
  readonly unknown: ListEntry[];
  readonly revoked: ListEntry[];
}

/**
 * Issuance: takes one status entry per credential of the request and records each in the ledger, in
 * one call to the person's object. Throws (a 503 through the Durable Object guard) when the write did
 * not happen: the caller must then not hand the credentials out.
 */
export async function recordIssued(
  env: Env,
  issuer: string,
  batch: { person: string; sessionId: string; format: CredentialFormat; configuration: string; issuedAt: number; count: number },
): Promise<StatusReference[]> {
  const shard = await shardOfPerson(batch.person);
  const slots = await ledgerAt(env, shard).record(batch);
  return slots.map((s) => {
    const list = listName(shard, s.generation);
    return { list, idx: s.idx, uri: statusListUri(issuer, list) };
  });
}

/** Every credential issued to the person of ledger pseudonym `person` (ledgerPseudonym), oldest first. */
export async function credentialsOfPerson(env: Env, person: string): Promise<LedgerEntry[]> {
  const shard = await shardOfPerson(person);
  const rows = await ledgerAt(env, shard).credentialsOf(person);
  return rows.map((r: LedgerRow) => ({
    list: listName(shard, r.generation),
    idx: r.idx,
    format: r.format,
    configuration: r.configuration,
    issuedAt: r.issuedAt,
    sessionId: r.sessionId,
    status: r.status,
    statusChangedAt: r.statusChangedAt,
  }));
}

/**
 * Sets the status of the given entries (one call per object they live in). Entries whose list this
 * issuer could not have made are reported `unknown`, like entries never issued. Invalid (1) is final.
 */
export async function setListStatus(env: Env, entries: readonly ListEntry[], status: StatusValue, now: number): Promise<ListStatusChange> {
  const out: ListStatusChange = { changed: [], unchanged: [], unknown: [], revoked: [] };
  const byShard = new Map<number, StatusSlot[]>();
  for (const entry of entries) {
    const parsed = parseListName(entry.list);
    if (!parsed || !Number.isSafeInteger(entry.idx) || entry.idx < 0) {
      out.unknown.push({ list: entry.list, idx: entry.idx });
      continue;
    }
    const slots = byShard.get(parsed.shard) ?? [];
    slots.push({ generation: parsed.generation, idx: entry.idx });
    byShard.set(parsed.shard, slots);
  }
  for (const [shard, slots] of byShard) merge(out, shard, await ledgerAt(env, shard).setStatus(slots, status, now));
  return out;
}

/** Sets the status of every credential of a person, atomically (they are all in one object). */
export async function setPersonStatus(env: Env, person: string, status: StatusValue, now: number): Promise<ListStatusChange> {
  const shard = await shardOfPerson(person);
  const out: ListStatusChange = { changed: [], unchanged: [], unknown: [], revoked: [] };
  merge(out, shard, await ledgerAt(env, shard).setPersonStatus(person, status, now));
  return out;
}

/** A list's status array (2 bits per entry, 2^20 entries), or null when no such list exists. */
export async function readListBits(env: Env, list: string): Promise<Uint8Array | null> {
  const parsed = parseListName(list);
  if (!parsed) return null;
  return ledgerAt(env, parsed.shard).listBits(parsed.generation);
}

function merge(out: ListStatusChange, shard: number, change: StatusChange): void {
  for (const key of ["changed", "unchanged", "unknown", "revoked"] as const) {
    for (const s of change[key]) out[key].push({ list: listName(shard, s.generation), idx: s.idx });
  }
}
