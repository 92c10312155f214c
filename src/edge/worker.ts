import type { Hono } from "hono";
import type { Env } from "../config/env";
import type { AppEnv } from "../http/app-env";
import { guardBindings } from "./durable-guard";
import { clock } from "../lib/clock";
import { logger } from "../log/logger";
import { syncRegisterChanges } from "../lifecycle/register-sync";

/** The Worker's handlers around `app`: the same for the production and the development entry. */
export function workerHandler(app: Hono<AppEnv>, options: { scheduledEnv?: (env: Env) => Env } = {}): ExportedHandler<Env> {
  const scheduledEnv = options.scheduledEnv ?? ((env: Env) => env);
  return {
    // Durable Object calls get a deadline and fail as retryable 503s (src/edge/durable-guard.ts).
    fetch: (request, env, ctx) => app.fetch(request, guardBindings(env), ctx),
    // The cron trigger (wrangler.toml [triggers]): the licence register's status changes applied to the
    // credentials already issued (src/lifecycle/register-sync.ts). A failed run is retried by the next.
    // A failure is logged and rethrown (the run shows as failed in the Worker's cron events).
    scheduled: (_controller, env, ctx) =>
      ctx.waitUntil(
        syncRegisterChanges(guardBindings(scheduledEnv(env)), clock.now()).then(
          () => undefined,
          (err: unknown) => {
            logger.error("register_sync", { outcome: "failed", error: err instanceof Error ? err.message : String(err) });
            throw err;
          },
        ),
      ),
  };
}
