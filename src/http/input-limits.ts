import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import { ApiError } from "./problem";

/**
 * Size limits on what arrives before any of it is parsed: the URL (path and query) and the headers.
 * The body has its own limit (bodyLimit in app.ts).
 *
 * Why here and not only at Cloudflare's edge: its limits are far larger (URLs of 16 KB, headers of
 * 128 KB) and do not apply under `wrangler dev`; every value this API reads is far smaller. The largest
 * legitimate values: a DPoP proof, a ticket and a sealed token are each under 1 KiB (their verifiers
 * refuse anything over 4 KiB), a browser's Cookie header carries a ticket and a session. So a request
 * over these limits is refused whole, cheaply, with a problem document: nothing downstream (the query
 * parser, the cookie parser, a JWS decoder, a SHA-256 of the admin token) ever sees an oversized value.
 */
export const MAX_URL_BYTES = 8 * 1024;
export const MAX_HEADER_BYTES = 8 * 1024;
export const MAX_HEADERS_BYTES = 24 * 1024;

export const inputLimits: MiddlewareHandler<AppEnv> = async function inputLimits(c, next) {
  // The URL as received: percent-escapes are still escaped, so this counts bytes on the wire.
  if (c.req.url.length > MAX_URL_BYTES) {
    throw new ApiError("uri_too_long", `request URLs are limited to ${MAX_URL_BYTES} bytes`);
  }
  let total = 0;
  for (const [name, value] of c.req.raw.headers) {
    const size = name.length + value.length;
    if (size > MAX_HEADER_BYTES) {
      throw new ApiError("headers_too_large", `each request header is limited to ${MAX_HEADER_BYTES} bytes (${name} is larger)`);
    }
    total += size;
  }
  if (total > MAX_HEADERS_BYTES) {
    throw new ApiError("headers_too_large", `request headers are limited to ${MAX_HEADERS_BYTES} bytes in all`);
  }
  await next();
};
