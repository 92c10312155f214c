import type { Context } from "hono";
import { verifyDpopProof } from "../auth/dpop";
import { secret } from "../config/env";
import { claimOnce } from "../edge/replay";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { hmacKeyring } from "../tickets/keyring";
import { open } from "../tickets/sealed";
import { DPOP_MAX_AGE_SECONDS } from "../auth/dpop";

/**
 * Authenticate a request to the credential or notification endpoint: `Authorization: DPoP <token>`
 * with a sealed access token, and a DPoP proof by the very key the token is bound to, carrying the
 * token's hash (`ath`) and a never-seen `jti` (RFC 9449 sections 7 and 11.1).
 */
export interface AccessGrant {
  readonly personId: string;
  readonly jkt: string;
  readonly room: string;
  readonly ticketId: string;
  readonly expiresAt: number;
}

const dpopChallenge = { "www-authenticate": 'DPoP algs="ES256"' };

export async function requireDpopAccess(c: Context<AppEnv>): Promise<AccessGrant> {
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
  const match = /^DPoP ([A-Za-z0-9\-._~+/]+=*)$/i.exec((c.req.header("authorization") ?? "").trim());
  if (!match) throw new ApiError("invalid_token", "send the access token as `Authorization: DPoP <token>`", { headers: dpopChallenge });
  const token = match[1]!;
  const now = clock.now();
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const opened = await open(ring, "access-token", token, now);
  if (!opened.ok) {
    throw new ApiError("invalid_token", `the access token was refused (${opened.reason.replaceAll("_", " ")})`, {
      headers: { "www-authenticate": `DPoP error="invalid_token", algs="ES256"` },
    });
  }
  const claims = opened.claims as { pid?: unknown; jkt?: unknown; room?: unknown; tid?: unknown; exp?: number };
  if (typeof claims.pid !== "string" || typeof claims.jkt !== "string" || typeof claims.room !== "string" || typeof claims.tid !== "string") {
    throw new ApiError("invalid_token", "the access token was refused (bad claims)", { headers: dpopChallenge });
  }
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: c.req.method, url: c.req.url }, now, token);
  const refuse = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, {
      extras: { reason },
      headers: { "www-authenticate": `DPoP error="invalid_dpop_proof", algs="ES256"` },
    });
  if (!proof.ok) throw refuse(proof.reason);
  if (proof.jkt !== claims.jkt) throw refuse("key_not_bound_to_token");
  if (!(await claimOnce(c.env, "dpop", `${proof.jkt}:${proof.jti}`, (proof.iat + DPOP_MAX_AGE_SECONDS + 120) * 1000))) throw refuse("replayed");
  return { personId: claims.pid, jkt: claims.jkt, room: claims.room, ticketId: claims.tid, expiresAt: (claims.exp ?? 0) * 1000 };
}
