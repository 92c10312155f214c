import { migrate, type Migration } from "../storage/migrations";
import { indexPermutation, LIST_SIZE, PERMUTATION_SEED_BYTES, type IndexPermutation } from "./index-permutation";
import { packStatuses } from "./status-bits";
import { MAX_GENERATIONS, STATUS, isStatusValue, type StatusValue } from "./status-values";

/**
 * One IssuanceLedger object's storage: its status lists and the ledger of what was issued to whom.
 * Both in one object on purpose: a credential's index is taken and its ledger row written in the same
 * synchronous transaction (one RPC per credential request), so there is never an index without its
 * row or a row without its index; and all of one person's credentials are in one object, so suspending
 * or revoking a person is one atomic write, never a batch half revoked.
 *
 * Storage schema (SQLite):
 * | table       | row                                              | written when                          |
 * |-------------|--------------------------------------------------|---------------------------------------|
 * | lists       | one per list (generation): permutation seed,     | the first credential of the object,   |
 * |             | next position (the counter), created_at          | then each time a list fills up        |
 * | credentials | one per credential: (generation, idx) key,        | issuance (`record`), before the       |
 * |             | person (ledger pseudonym), format, configuration, | credential is handed out; status      |
 * |             | issued_at, session_id, status, status_changed_at, | changes (`setStatus`, `setPersonStatus`)|
 * |             | position (the counter value: issuance order)      |                                       |
 * No personal data: `person` is a keyed pseudonym (src/status/ledger.ts), the session id is an
 * admission's room and ticket id. Rows are kept for the life of the list (retention: docs/credential-status.md).
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE lists (
     generation INTEGER PRIMARY KEY, seed BLOB NOT NULL, next_position INTEGER NOT NULL, created_at INTEGER NOT NULL
   );
   CREATE TABLE credentials (
     generation INTEGER NOT NULL, idx INTEGER NOT NULL, position INTEGER NOT NULL, person TEXT NOT NULL, format TEXT NOT NULL,
     configuration TEXT NOT NULL, issued_at INTEGER NOT NULL, session_id TEXT NOT NULL,
     status INTEGER NOT NULL DEFAULT 0, status_changed_at INTEGER,
     PRIMARY KEY (generation, idx)
   ) WITHOUT ROWID;
   CREATE INDEX credentials_by_person ON credentials (person);
   CREATE INDEX credentials_flagged ON credentials (generation, idx, status) WHERE status <> 0;`,
];

export type CredentialFormat = "mso_mdoc" | "dc+sd-jwt";

/** What issuance records of each credential of one request. */
export interface IssuedBatch {
  readonly person: string;
  readonly sessionId: string;
  readonly format: CredentialFormat;
  readonly configuration: string;
  readonly issuedAt: number;
  readonly count: number;
}

/** A credential's place: the list (this object's generation) and its index there. */
export interface StatusSlot {
  readonly generation: number;
  readonly idx: number;
}

export interface LedgerRow extends StatusSlot {
  readonly person: string;
  readonly format: CredentialFormat;
  readonly configuration: string;
  readonly issuedAt: number;
  readonly sessionId: string;
  readonly status: StatusValue;
  readonly statusChangedAt: number | null;
}

/**
 * What a status change did, entry by entry: `changed` now hold the new value, `unchanged` already did,
 * `unknown` were never issued, and `revoked` are invalid for good (draft-ietf-oauth-status-list §7.1:
 * a credential once invalid is not made valid again; suspension is the reversible state).
 */
export interface StatusChange {
  readonly changed: StatusSlot[];
  readonly unchanged: StatusSlot[];
  readonly unknown: StatusSlot[];
  readonly revoked: StatusSlot[];
}

interface CredentialRow {
  generation: number;
  idx: number;
  position: number;
  person: string;
  format: string;
  configuration: string;
  issued_at: number;
  session_id: string;
  status: number;
  status_changed_at: number | null;
  [key: string]: SqlStorageValue;
}

export class LedgerStore {
  readonly #sql: SqlStorage;
  readonly #random: (n: number) => Uint8Array;
  readonly #permutations = new Map<number, IndexPermutation>();

  constructor(sql: SqlStorage, random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))) {
    this.#sql = sql;
    this.#random = random;
    migrate(sql, MIGRATIONS);
  }

  /**
   * Takes the next `count` indices (rolling to a new list when one is full) and writes a ledger row for
   * each. Synchronous: the whole batch is one transaction of the object.
   */
  record(batch: IssuedBatch): StatusSlot[] {
    const slots: StatusSlot[] = [];
    let list = this.#currentList(batch.issuedAt);
    for (let i = 0; i < batch.count; i++) {
      if (list.next >= LIST_SIZE) {
        // Past the last list a name can have (status-values.ts): refuse rather than issue an unservable status.
        if (list.generation + 1 >= MAX_GENERATIONS) throw new Error("every status list of this ledger object is full");
        list = this.#createList(list.generation + 1, batch.issuedAt);
      }
      const idx = this.#permutation(list.generation, list.seed)(list.next);
      // The primary key refuses a repeated (generation, idx): a bug here fails the request, never
      // gives two credentials one entry.
      this.#sql.exec(
        `INSERT INTO credentials (generation, idx, position, person, format, configuration, issued_at, session_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        list.generation,
        idx,
        list.next,
        batch.person,
        batch.format,
        batch.configuration,
        batch.issuedAt,
        batch.sessionId,
      );
      list.next += 1;
      this.#sql.exec("UPDATE lists SET next_position = ? WHERE generation = ?", list.next, list.generation);
      slots.push({ generation: list.generation, idx });
    }
    return slots;
  }

  /** Every credential recorded for `person`, in the order they were issued. */
  credentialsOf(person: string): LedgerRow[] {
    return this.#sql
      .exec<CredentialRow>("SELECT * FROM credentials WHERE person = ? ORDER BY generation, position", person)
      .toArray()
      .map(fromRow);
  }

  /** Sets the entries' status (see StatusChange for what is refused). */
  setStatus(slots: readonly StatusSlot[], status: StatusValue, now: number): StatusChange {
    const change: StatusChange = { changed: [], unchanged: [], unknown: [], revoked: [] };
    for (const slot of slots) {
      const row = this.#sql
        .exec<{ status: number }>("SELECT status FROM credentials WHERE generation = ? AND idx = ?", slot.generation, slot.idx)
        .toArray()[0];
      const target = { generation: slot.generation, idx: slot.idx };
      if (!row) change.unknown.push(target);
      else if (row.status === status) change.unchanged.push(target);
      else if (row.status === STATUS.invalid) change.revoked.push(target);
      else {
        this.#sql.exec(
          "UPDATE credentials SET status = ?, status_changed_at = ? WHERE generation = ? AND idx = ?",
          status,
          now,
          slot.generation,
          slot.idx,
        );
        change.changed.push(target);
      }
    }
    return change;
  }

  /** Sets the status of every credential of `person`, in one transaction. */
  setPersonStatus(person: string, status: StatusValue, now: number): StatusChange {
    return this.setStatus(this.credentialsOf(person), status, now);
  }

  /**
   * List `generation`'s status array (2 bits per entry, LIST_SIZE entries), or null when this object
   * has no such list yet. Generation 0 always exists: before the first credential it is all zeros.
   */
  listBits(generation: number): Uint8Array | null {
    const newest = this.#sql.exec<{ g: number | null }>("SELECT max(generation) AS g FROM lists").one().g ?? 0;
    if (!Number.isInteger(generation) || generation < 0 || generation > newest) return null;
    const flagged = this.#sql
      .exec<{ idx: number; status: number }>("SELECT idx, status FROM credentials WHERE generation = ? AND status <> 0", generation)
      .toArray();
    return packStatuses(
      LIST_SIZE,
      flagged.map((r) => [r.idx, isStatusValue(r.status) ? r.status : STATUS.invalid] as const),
    );
  }

  #currentList(now: number): { generation: number; seed: Uint8Array; next: number } {
    const row = this.#sql
      .exec<{ generation: number; seed: ArrayBuffer; next_position: number }>(
        "SELECT generation, seed, next_position FROM lists ORDER BY generation DESC LIMIT 1",
      )
      .toArray()[0];
    if (!row) return this.#createList(0, now);
    return { generation: row.generation, seed: new Uint8Array(row.seed), next: row.next_position };
  }

  #createList(generation: number, now: number): { generation: number; seed: Uint8Array; next: number } {
    const seed = this.#random(PERMUTATION_SEED_BYTES);
    this.#sql.exec("INSERT INTO lists (generation, seed, next_position, created_at) VALUES (?, ?, 0, ?)", generation, seed, now);
    return { generation, seed, next: 0 };
  }

  #permutation(generation: number, seed: Uint8Array): IndexPermutation {
    let permutation = this.#permutations.get(generation);
    if (!permutation) {
      permutation = indexPermutation(seed);
      this.#permutations.set(generation, permutation);
    }
    return permutation;
  }
}

function fromRow(row: CredentialRow): LedgerRow {
  return {
    generation: row.generation,
    idx: row.idx,
    person: row.person,
    format: row.format as CredentialFormat,
    configuration: row.configuration,
    issuedAt: row.issued_at,
    sessionId: row.session_id,
    status: isStatusValue(row.status) ? row.status : STATUS.invalid,
    statusChangedAt: row.status_changed_at,
  };
}
