import { base64url } from "jose";

/**
 * PKCE (RFC 7636) with S256 only: HAIP 1.0 requires S256, and `plain` would let whoever sees the
 * authorization request (a log, the browser history) redeem the code.
 */
export const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A base64url SHA-256: 43 characters (RFC 7636 §4.2). */
export const CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export async function s256Challenge(verifier: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

/** Whether `verifier` is a well-formed code verifier whose S256 challenge is `challenge` (RFC 7636 §4.6). */
export async function verifierMatches(verifier: string | undefined, challenge: string): Promise<boolean> {
  if (verifier === undefined || !CODE_VERIFIER_PATTERN.test(verifier)) return false;
  return (await s256Challenge(verifier)) === challenge;
}

/** A fresh verifier (32 random bytes, base64url: 43 characters) for our own requests to the identity provider. */
export function newCodeVerifier(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}
