import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { RoomNameSchema } from "../config/room-config";
import { logger } from "../log/logger";
import { recordRequest } from "../metrics/edge-counters";
import type { AppEnv } from "./app-env";
import { settingsOf } from "../config/settings";
import type { Env } from "../config/env";

/**
 * Every request, once answered: counted in this isolate's edge metrics and logged as one JSON line
 * (`event: "request"`) with the route pattern, method, room, status and duration. Nothing else about
 * the request is written: not the URL (it may carry a query), no header, no address, no body.
 *
 * Runs outermost, so errors have already become problem responses (onError) when it reads the status.
 *
 * Volume: with LOG_REQUESTS=errors (wrangler.toml's default) only requests answered 4xx/5xx are logged;
 * a launch day's millions of successful polls are counted in the metrics instead. LOG_REQUESTS=all (or
 * unset) logs every request.
 */
export const requestLog: MiddlewareHandler<AppEnv> = async function requestLog(c, next) {
  const started = Date.now();
  try {
    await next();
  } finally {
    // Wall clock: in workerd it advances across I/O, which is where a request's time goes.
    const duration = Date.now() - started;
    const route = routeOf(c);
    const status = c.res.status;
    recordRequest(route, c.req.method, status, duration);
    // No early `return` here: one from a finally block would swallow whatever next() threw.
    if (status >= 400 || !quietOnSuccess(c.env)) logRequest(c, route, status, duration);
  }
};

function logRequest(c: Context<AppEnv>, route: string, status: number, duration: number): void {
  const room = c.req.param("room");
  const cf = (c.req.raw as { cf?: { colo?: unknown } }).cf;
  logger[status >= 500 ? "error" : "info"]("request", {
    method: c.req.method,
    route,
    room: room !== undefined && RoomNameSchema.safeParse(room).success ? room : undefined,
    status,
    duration_ms: duration,
    colo: typeof cf?.colo === "string" ? cf.colo : undefined,
  });
}

/**
 * The pattern of the handler that answered (`/v1/rooms/:room/tickets/current`), or "unmatched".
 * Middleware is registered for every method ("ALL"), handlers for one, so the last matched route with a
 * method is the handler; a request no handler matched only went through middleware.
 */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== "ALL") return r.path;
  }
  return "unmatched";
}

/**
 * LOG_REQUESTS=errors. A misconfigured deployment answers every request 503 (not a success), but this
 * runs outermost, in a `finally`: it must not throw the ConfigError again, so it logs everything then.
 */
function quietOnSuccess(env: Env): boolean {
  try {
    return settingsOf(env).logRequests === "errors";
  } catch {
    return false;
  }
}
