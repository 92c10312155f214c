import { Hono } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { issuerOrigin } from "../issuance/issuer-url";
import { clock } from "../lib/clock";
import { MEDIA_TYPES, statusListResponse, type StatusListFormat } from "../status/status-list-cache";
import { parseListName, statusListUri } from "../status/status-values";

/**
 * GET /status-lists/{list}: the Status List Token at the `uri` every credential carries
 * (draft-ietf-oauth-status-list §8), as a JWT or a CWT by content negotiation. Public and cacheable;
 * served from the edge cache (src/status/status-list-cache.ts).
 */
export const statusLists = new Hono<AppEnv>();

statusLists.get("/status-lists/:list", async (c) => {
  const format = negotiate(c.req.header("accept"));
  const list = c.req.param("list");
  if (!parseListName(list)) throw new ApiError("not_found", "no such status list");
  const issuer = issuerOrigin(c.env, c.req.url);
  return statusListResponse(c.env, list, statusListUri(issuer, list), format, clock.now());
});

/**
 * The format the Accept header prefers: the JWT when it names neither or accepts anything (it is what
 * SD-JWT VC verifiers ask for, and what a plain GET gets), the CWT when it is preferred (q values
 * honoured), 406 when it accepts neither.
 */
export function negotiate(accept: string | undefined): StatusListFormat {
  if (!accept?.trim()) return "jwt";
  let best: { format: StatusListFormat; q: number } | null = null;
  for (const part of accept.split(",")) {
    const [rawType, ...params] = part.split(";");
    const type = rawType!.trim().toLowerCase();
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0 && q <= 1)) continue;
    const format: StatusListFormat | null =
      type === MEDIA_TYPES.cwt ? "cwt" : type === MEDIA_TYPES.jwt || type === "*/*" || type === "application/*" ? "jwt" : null;
    // An exact media type outranks a wildcard of the same q (RFC 9110 §12.5.1).
    if (format && (!best || q > best.q || (q === best.q && format === "cwt" && type === MEDIA_TYPES.cwt))) best = { format, q };
  }
  if (!best) throw new ApiError("not_acceptable", `this resource is ${MEDIA_TYPES.jwt} or ${MEDIA_TYPES.cwt}`);
  return best.format;
}
