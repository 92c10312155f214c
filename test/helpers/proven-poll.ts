import { SignJWT } from "jose";
import { accessTokenHash } from "../../src/auth/dpop";
import { clock } from "../../src/lib/clock";
import { ORIGIN, call } from "./api";
import type { Device } from "./device";

/**
 * A poll signed by a device key, as the client SDK sends every poll: `DPoP` proof (GET, the poll URL,
 * `ath` = hash of the ticket) next to the bearer ticket. Only such a poll by the ticket's own key gets the
 * handoff's tx_code (SECURITY.md); `device` may be another key, to show that it does not.
 */
export async function provenPoll(room: string, ticket: string, device: Device): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const path = `/v1/rooms/${room}/tickets/current`;
  const proof = await new SignJWT({ htm: "GET", htu: `${ORIGIN}${path}`, jti: crypto.randomUUID(), ath: await accessTokenHash(ticket) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(device.privateKey);
  const res = await call(path, { headers: { authorization: `Bearer ${ticket}`, dpop: proof } });
  return { status: res.status, body: (await res.json()) as Record<string, any>, res };
}
