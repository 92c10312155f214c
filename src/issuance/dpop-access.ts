import { createMiddleware } from "hono/factory";
import { proofReplayWindowEnd, verifyDpopProof } from "../auth/dpop";
import { secret } from "../config/env";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { requireDpopNonce } from "../oauth/dpop-nonce";
import { hmacKeyring } from "../tickets/keyring";
import { AccessTokenSchema, openGrant } from "./grants";
import { sessionIdOf } from "./sessions";

/**
 * DPoP-bound access to the credential and notification endpoints, as one middleware: `Authorization:
 * DPoP <token>` with a sealed access token, and a DPoP proof by the very key the token is bound to,
 * carrying the token's hash (`ath`) and a current server nonce (RFC 9449 sections 7, 9 and 11.1). It sets
 * `c.var.grant`.
 *
 * What it does not do is the part that needs storage: whether the token's session is still open, and
 * whether the proof's `jti` was seen. Both are decided by the session's own object in the one call the
 * handler makes anyway (IssuanceSessions.spend / notify), so checking the session costs no round trip.
 */
export interface AccessGrant {
  readonly personId: string;
  readonly jkt: string;
  readonly room: string;
  readonly ticketId: string;
  readonly sessionId: string;
  readonly expiresAt: number;
  /** The credential configurations this token may obtain; undefined: every one (pre-authorized code). */
  readonly configurations?: readonly string[];
  /** The accompanying proof's id and until when it must be remembered. */
  readonly proofId: string;
  readonly proofExpiresAt: number;
}

const dpopChallenge = { "www-authenticate": 'DPoP algs="ES256"' };

export const dpopAccess = createMiddleware<AppEnv>(async function dpopAccess(c, next) {
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
  const match = /^DPoP ([A-Za-z0-9\-._~+/]+=*)$/i.exec((c.req.header("authorization") ?? "").trim());
  if (!match) throw new ApiError("invalid_token", "send the access token as `Authorization: DPoP <token>`", { headers: dpopChallenge });
  const token = match[1]!;
  const now = clock.now();
  const opened = await openGrant(await hmacKeyring(secret(c.env, "TICKET_KEYS")), "access-token", AccessTokenSchema, token, now);
  if (!opened.ok) {
    throw new ApiError("invalid_token", `the access token was refused (${opened.reason.replaceAll("_", " ")})`, {
      headers: { "www-authenticate": `DPoP error="invalid_token", algs="ES256"` },
    });
  }
  const claims = opened.claims;
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: c.req.method, url: c.req.url }, now, token);
  const refuse = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, {
      extras: { reason },
      headers: { "www-authenticate": `DPoP error="invalid_dpop_proof", algs="ES256"` },
    });
  if (!proof.ok) throw refuse(proof.reason);
  if (proof.jkt !== claims.jkt) throw refuse("key_not_bound_to_token");
  // RFC 9449 §9: a proof made after a recent server nonce; in the isolate, before the session's object.
  await requireDpopNonce(c.env, proof.nonce, now, "resource");
  c.set("grant", {
    personId: claims.pid,
    jkt: claims.jkt,
    room: claims.room,
    ticketId: claims.tid,
    sessionId: sessionIdOf(claims.room, claims.tid),
    expiresAt: claims.exp * 1000,
    ...(claims.cfg ? { configurations: claims.cfg } : {}),
    proofId: proof.jti,
    proofExpiresAt: proofReplayWindowEnd(proof.iat),
  });
  await next();
});
