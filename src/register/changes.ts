/**
 * The register's change log (table licence_status_changes, migration 0002): every licence status
 * change, numbered in the order it happened. The issuer reads it from the last change it applied
 * (src/lifecycle/register-sync.ts) and applies each to the person's credentials.
 *
 * Outside the per-isolate read gate of register.ts on purpose: that gate shaves bursts of per-person
 * lookups, while this is one bounded query a minute from the scheduled handler, never on a request path.
 */
import { z } from "zod";
import { LICENCE_STATUSES, type LicenceStatus } from "./licence-holder";
import { LICENCE_CHANGES_TABLE } from "./table";

export interface LicenceChange {
  readonly seq: number;
  readonly personId: string;
  readonly status: LicenceStatus;
}

const ChangeRowSchema = z.object({ seq: z.number().int().positive(), person_id: z.string().min(1), status: z.enum(LICENCE_STATUSES) });

/** The changes after `cursor`, oldest first, at most `limit`. A row that does not parse stops the read (it is not skipped). */
export async function readLicenceChanges(db: D1Database, cursor: number, limit: number): Promise<LicenceChange[]> {
  const { results } = await db
    .prepare(`SELECT seq, person_id, status FROM ${LICENCE_CHANGES_TABLE} WHERE seq > ? ORDER BY seq LIMIT ?`)
    .bind(cursor, limit)
    .all();
  return results.map((row) => {
    const r = ChangeRowSchema.parse(row);
    return { seq: r.seq, personId: r.person_id, status: r.status };
  });
}
