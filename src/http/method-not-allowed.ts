import type { Hono, NotFoundHandler } from "hono";
import type { AppEnv } from "./app-env";
import { onNotFound } from "./errors";
import { ApiError, problemResponse } from "./problem";

/**
 * A path this Worker serves, asked with a method it does not serve there, is a 405 with `Allow`
 * (RFC 9110 section 15.5.6), not the 404 Hono answers when no handler matches: a client that PUTs
 * where it should POST learns which methods exist instead of believing the resource is gone.
 *
 * The route table is read from the app once, on the first miss (every route is registered by then).
 * Guards still run first: under /v1/admin a request without the token is a 401 whatever its method,
 * and outside development the /v1/dev paths stay a plain 404 (they must not be told apart from nothing).
 */
export function notFoundOrWrongMethod(app: Hono<AppEnv>): NotFoundHandler<AppEnv> {
  let table: { method: string; pattern: RegExp }[] | null = null;
  return (c) => {
    table ??= app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
    const allowed = new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method));
    if (allowed.size === 0) return onNotFound(c);
    // Hono answers HEAD with the GET handler.
    if (allowed.has("GET")) allowed.add("HEAD");
    const allow = [...allowed].sort().join(", ");
    return problemResponse(new ApiError("method_not_allowed", `${c.req.method} is not served here; use ${allow}`, { headers: { allow } }));
  };
}

/** A route path as a whole-path pattern: `:param` is one segment, `*` anything. */
function patternOf(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}
