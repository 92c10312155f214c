import { SignJWT } from "jose";
import { accessTokenHash } from "../../src/auth/dpop";
import { clock } from "../../src/lib/clock";
import { ORIGIN } from "./api";
import { newDevice, type Device } from "./device";
import { keyProof, nonce } from "./wallet";

/** A credential request sent through a given fetch (e.g. the app with overridden bindings). */
export async function withAccessVia(
  fetcher: (req: Request) => Promise<Response>,
  device: Device,
  accessToken: string,
  configuration: string,
): Promise<Response> {
  const url = `${ORIGIN}/credential`;
  const proof = await new SignJWT({ htm: "POST", htu: url, jti: crypto.randomUUID(), ath: await accessTokenHash(accessToken) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(device.privateKey);
  const key = await newDevice();
  const body = JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt: [await keyProof(key, await nonce())] } });
  return fetcher(
    new Request(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `DPoP ${accessToken}`, dpop: proof },
      body,
    }),
  );
}
