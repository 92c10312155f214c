import { z } from "zod";
import type { Env } from "../config/env";
import { lifecycleLog } from "../edge/objects";
import type { AuditEntry, NewAuditEntry } from "./audit-store";

/**
 * The audit log of credential status changes: who (src/http/admin-auth.ts names the caller: a label of
 * the admin token's hash or of the dashboard login, `register` for the automatic sync), what (action,
 * target: the person's ledger pseudonym, the same in every room and never the person id, or a status
 * list and index; how many credentials), when and why (the operator's optional reason). Stored in the
 * LifecycleLog object (durable-objects/lifecycle-log.ts).
 *
 * Written after the change, in the same request: if the write fails the caller gets a 503 and the
 * change stands unlogged, which the operator sees (the retry is harmless: statuses are set, not toggled,
 * and logged again). The reverse order would log changes that never happened.
 */
export async function recordAudit(env: Env, entries: readonly NewAuditEntry[]): Promise<void> {
  if (entries.length > 0) await lifecycleLog(env).record([...entries]);
}

export const AUDIT_PAGE_MAX = 200;

export const AuditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
    /** The `next` of the previous page: entries older than this sequence number. */
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

/** A page, newest first, and the cursor of the next (older) page, or null at the oldest. */
export async function auditPage(
  env: Env,
  query: z.infer<typeof AuditQuerySchema>,
): Promise<{ entries: AuditEntry[]; next: string | null }> {
  const entries = await lifecycleLog(env).page(query.before ?? null, query.limit);
  const last = entries.at(-1);
  return { entries, next: entries.length === query.limit && last && last.seq > 1 ? String(last.seq) : null };
}
