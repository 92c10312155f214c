import { Hono, type Context } from "hono";
import { z } from "zod";
import { settingsOf } from "../config/settings";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson } from "../http/request";
import { clock } from "../lib/clock";
import { AuditQuerySchema, auditPage } from "../lifecycle/audit";
import { CredentialActionSchema, LIFECYCLE_ACTIONS, PersonActionSchema, changeCredential, changePerson } from "../lifecycle/operations";

/**
 * The operators' credential lifecycle controls (mounted under /v1/admin, behind requireAdmin):
 * suspend, reinstate or revoke every credential of a person, or one credential by list and index, and
 * read the audit log. The person id travels in the body, never in the URL (URLs end up in logs).
 */
export const adminLifecycle = new Hono<AppEnv>();

export const LifecycleActionSchema = z.enum(LIFECYCLE_ACTIONS);

function actionParam(c: Context<AppEnv>) {
  const parsed = LifecycleActionSchema.safeParse(c.req.param("action"));
  // Like an unknown route: the action is part of the path.
  if (!parsed.success) throw new ApiError("not_found", `no action "${c.req.param("action")}": suspend, reinstate or revoke`);
  return parsed.data;
}

/** The issuer origin the status list URLs start with (for the cache purge), or null if this deployment has none. */
function issuerFor(c: Context<AppEnv>): string | null {
  const settings = settingsOf(c.env);
  return settings.publicOrigin ?? (settings.development ? new URL(c.req.url).origin : null);
}

function contextOf(c: Context<AppEnv>, reason: string | undefined) {
  return { issuer: issuerFor(c), actor: c.var.adminActor, now: clock.now(), reason: reason ?? null };
}

adminLifecycle.post("/credentials/by-person/:action", async (c) => {
  const action = actionParam(c);
  const body = await readJson(c, PersonActionSchema);
  const outcome = await changePerson(c.env, body.person_id, action, contextOf(c, body.reason));
  c.header("cache-control", "no-store");
  return c.json(outcome);
});

adminLifecycle.post("/credentials/by-index/:action", async (c) => {
  const action = actionParam(c);
  const body = await readJson(c, CredentialActionSchema);
  const outcome = await changeCredential(c.env, { list: body.list, idx: body.idx }, action, contextOf(c, body.reason));
  c.header("cache-control", "no-store");
  return c.json(outcome);
});

adminLifecycle.get("/audit", async (c) => {
  const query = AuditQuerySchema.safeParse(c.req.query());
  if (!query.success) {
    throw new ApiError("validation_failed", "the query does not match what this endpoint accepts", {
      extras: { errors: query.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  c.header("cache-control", "no-store");
  return c.json(await auditPage(c.env, query.data));
});
