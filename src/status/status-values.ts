/**
 * Token Status List values and list names (draft-ietf-oauth-status-list §7.1): two bits per entry, of
 * which this issuer uses three values. 0 is what every entry of a new list reads, so a credential is
 * valid until someone changes its entry.
 */
export const STATUS = { valid: 0, invalid: 1, suspended: 2 } as const;
export type StatusValue = (typeof STATUS)[keyof typeof STATUS];
export const STATUS_BITS = 2;

export function isStatusValue(value: unknown): value is StatusValue {
  return value === STATUS.valid || value === STATUS.invalid || value === STATUS.suspended;
}

/**
 * How many IssuanceLedger objects hold the lists and the ledger, a person's credentials all in one of
 * them (chosen by a hash of the person's ledger pseudonym). Fixed for the life of a deployment: a
 * person's credentials are found again by the same hash, and a list's name says which object holds it.
 */
export const LEDGER_SHARDS = 16;

/** A list's public name, `${shard}-${generation}`: generation g is shard s's (g+1)-th list of 2^20 entries. */
export function listName(shard: number, generation: number): string {
  return `${shard}-${generation}`;
}

/**
 * Lists per object: 100 of 2^20 entries (about 1.7 billion credentials over the 16 objects, far beyond a
 * national launch). The bound is what keeps made-up list names cheap: a name this issuer could not have
 * made is refused without a call, so a flood of invented names costs at most LEDGER_SHARDS × MAX_GENERATIONS
 * object reads per `ttl` and location (each unknown list is then cached as 404).
 */
export const MAX_GENERATIONS = 100;

const LIST_NAME = /^(0|[1-9]\d?)-(0|[1-9]\d?)$/;

/** A list name back to its object and generation; null for anything this issuer could not have made. */
export function parseListName(name: string): { shard: number; generation: number } | null {
  const m = LIST_NAME.exec(name);
  if (!m) return null;
  const shard = Number(m[1]);
  const generation = Number(m[2]);
  return shard < LEDGER_SHARDS && generation < MAX_GENERATIONS ? { shard, generation } : null;
}

/** The `uri` a credential's `status.status_list` names: where its Status List Token is served. */
export function statusListUri(issuer: string, list: string): string {
  return `${issuer}/status-lists/${list}`;
}
