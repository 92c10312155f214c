import { SignJWT } from "jose";
import type { EcKeyring } from "./keyring";

/**
 * What an admitted device presents to the protected service: an ES256 JWT the service verifies offline
 * against /.well-known/jwks.json. Unlike the queue ticket it is verified by someone else, hence a public
 * key signature. It is bound to the device key (`cnf.jkt`), so the service can demand a DPoP proof.
 */
export const ADMISSION_TYPE = "antichambre-admission+jwt";
export const ADMISSION_AUDIENCE = "antichambre:protected-service";

export interface AdmissionGrant {
  readonly room: string;
  readonly ticketId: string;
  readonly jkt: string;
  readonly admittedAt: number;
  readonly expiresAt: number;
}

export function signAdmissionToken(keys: EcKeyring, issuer: string, g: AdmissionGrant): Promise<string> {
  return new SignJWT({ room: g.room, cnf: { jkt: g.jkt } })
    .setProtectedHeader({ alg: "ES256", kid: keys.signing.kid, typ: ADMISSION_TYPE })
    .setIssuer(issuer)
    .setAudience(ADMISSION_AUDIENCE)
    .setSubject(g.ticketId)
    .setIssuedAt(Math.floor(g.admittedAt / 1000))
    .setExpirationTime(Math.floor(g.expiresAt / 1000))
    .sign(keys.signing.key);
}
