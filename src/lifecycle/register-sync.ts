import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { lifecycleLog } from "../edge/objects";
import { ApiError } from "../http/problem";
import { logger } from "../log/logger";
import type { LicenceStatus } from "../register/licence-holder";
import { readLicenceChanges } from "../register/changes";
import { ledgerPseudonym } from "../status/ledger";
import { applyToPerson, type LifecycleAction } from "./operations";

/**
 * Applying the licence register's status changes to the credentials already issued, automatically:
 * the scheduled handler (wrangler.toml [triggers], every minute) reads the register's change log from
 * the cursor the LifecycleLog object keeps, and for each change sets the status of every credential of
 * that person: suspended → 2 (suspended), withdrawn → 1 (revoked, final), valid again → 0 (a suspension
 * lifted; a revoked credential stays revoked). Each change is audited with the actor `register`.
 *
 * Exactly once, in order: a run holds a lease on the cursor (an overlapping run, a slow one meeting the
 * next minute's, finds it taken and does nothing), applies the changes oldest first, and moves the
 * cursor past the last one applied. A run that dies mid-way leaves the cursor where it was; the next
 * run, after the lease ran out, applies the same changes again, which is harmless: a status is set, not
 * toggled. A change for a person with no credential is a no-op (nothing was issued to them yet; if they
 * come for one, issuance reads the register's status itself).
 */
export const REGISTER_SYNC_BATCH = 200;
/** Longer than a run takes (200 changes, one ledger call each), shorter than the cron's minute. */
const LEASE_MS = 50_000;

const ACTION_OF: Record<LicenceStatus, LifecycleAction> = { suspended: "suspend", withdrawn: "revoke", valid: "reinstate" };

export interface SyncResult {
  /** False when another run held the lease. */
  readonly ran: boolean;
  readonly applied: number;
  /** Credentials whose status changed. */
  readonly credentials: number;
  readonly cursor: number;
}

export async function syncRegisterChanges(env: Env, now: number): Promise<SyncResult> {
  const log = lifecycleLog(env);
  const lease = crypto.randomUUID();
  const cursor = await log.beginSync(lease, now, LEASE_MS);
  if (cursor === null) return { ran: false, applied: 0, credentials: 0, cursor: await log.cursor() };
  let done = cursor;
  let credentials = 0;
  let applied = 0;
  try {
    const changes = await readLicenceChanges(env.REGISTER, cursor, REGISTER_SYNC_BATCH);
    // Without PUBLIC_ORIGIN (development) the lists' URLs are unknown here: their cached tokens age out.
    const issuer = settingsOf(env).publicOrigin ?? null;
    for (const change of changes) {
      const pseudonym = await ledgerPseudonym(env, change.personId);
      try {
        const outcome = await applyToPerson(env, pseudonym, ACTION_OF[change.status], {
          issuer,
          actor: "register",
          now,
          reason: `register: licence ${change.status}`,
        });
        credentials += outcome.changed;
      } catch (err) {
        // Nothing issued to this person (404), or a reinstatement of revoked credentials only (409): done.
        if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 409)) throw err;
      }
      done = change.seq;
      applied++;
    }
  } finally {
    if (!(await log.endSync(lease, done))) logger.warn("register_sync", { outcome: "lease_lost", count: applied });
  }
  logger.info("register_sync", { outcome: "ok", count: applied });
  return { ran: true, applied, credentials, cursor: done };
}
