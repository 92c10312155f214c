import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env";
import { enforceAddressLimit, type AddressScope } from "./rate-limits";

/**
 * Hono middleware: counts every request to the routes it guards against the client's address in
 * `scope` (src/edge/rate-limits.ts), and refuses with 429 + Retry-After past the limit. Mounted in
 * src/app.ts ahead of the routers, so the refusal comes before the handler reads the body, checks a
 * proof or a token, or calls a Durable Object: flooding the endpoint costs one HMAC per request.
 */
export function limitPerAddress(scope: AddressScope): MiddlewareHandler<AppEnv> {
  return async function addressLimit(c, next) {
    await enforceAddressLimit(c.env, c.req.raw, scope);
    await next();
  };
}
