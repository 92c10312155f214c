/**
 * A JWK SHA-256 thumbprint as this service binds things to it (RFC 7638, base64url without padding):
 * 43 characters. The one shape every `jkt` a client can send is checked against (proof-of-work
 * challenges, identity assertions' `cnf.jkt`, the development identity service's request).
 */
export const JKT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isJkt(value: unknown): value is string {
  return typeof value === "string" && JKT_PATTERN.test(value);
}
