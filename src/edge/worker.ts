import type { Hono } from "hono";
import type { Env } from "../config/env";
import type { AppEnv } from "../http/app-env";
import { guardBindings } from "./durable-guard";

/** The Worker's fetch handler around `app`: the same for the production and the development entry. */
export function workerHandler(app: Hono<AppEnv>): ExportedHandler<Env> {
  return {
    // Durable Object calls get a deadline and fail as retryable 503s (src/edge/durable-guard.ts).
    fetch: (request, env, ctx) => app.fetch(request, guardBindings(env), ctx),
  };
}
