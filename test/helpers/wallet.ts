import { SignJWT, decodeJwt } from "jose";
import { expect } from "vitest";
import { accessTokenHash } from "../../src/auth/dpop";
import { clock } from "../../src/lib/clock";
import { ORIGIN, call, poll } from "./api";
import { newDevice, type Device } from "./device";

/**
 * A wallet's side of OpenID4VCI 1.0 (pre-authorized code flow), driven over HTTP as a phone would:
 * token (DPoP) → nonce → credential (DPoP + access token + key proofs) → notification.
 */
export const MDOC = "fr.antichambre.mdl.mso_mdoc";
export const SD_JWT = "fr.antichambre.mdl.dc_sd_jwt";

export async function admittedOffer(room: string, ticket: string): Promise<{ code: string; offer: Record<string, any> }> {
  const { body } = await poll(room, ticket);
  expect(body.status).toBe("admitted");
  const offer = body.admission.credential_offer;
  return { code: offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"], offer };
}

export async function token(
  device: Device,
  code: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const url = `${ORIGIN}/token`;
  const res = await call("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", url) },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code",
      "pre-authorized_code": code,
      ...extra,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, res };
}

export async function nonce(): Promise<string> {
  const res = await call("/nonce", { method: "POST" });
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toContain("no-store");
  return ((await res.json()) as { c_nonce: string }).c_nonce;
}

/** A key proof (openid4vci-proof+jwt) by `key` for `cNonce`. */
export async function keyProof(key: Device, cNonce: string, o: { aud?: string; typ?: string; iat?: number } = {}): Promise<string> {
  return new SignJWT({ nonce: cNonce })
    .setProtectedHeader({ alg: "ES256", typ: o.typ ?? "openid4vci-proof+jwt", jwk: key.publicJwk })
    .setAudience(o.aud ?? ORIGIN)
    .setIssuedAt(o.iat ?? Math.floor(clock.now() / 1000))
    .sign(key.privateKey);
}

/** POST with the DPoP-bound access token: `Authorization: DPoP <token>` and a proof carrying `ath`. */
export async function withAccess(
  path: string,
  device: Device,
  accessToken: string,
  body: unknown,
  { scheme = "DPoP", headers = {} }: { scheme?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const url = `${ORIGIN}${path}`;
  const proof = await new SignJWT({ htm: "POST", htu: url, jti: crypto.randomUUID(), ath: await accessTokenHash(accessToken) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(device.privateKey);
  const res = await call(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `${scheme} ${accessToken}`, dpop: proof, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, res };
}

export async function credential(device: Device, accessToken: string, configuration: string, keys: Device[], cNonce?: string) {
  const n = cNonce ?? (await nonce());
  const proofs = await Promise.all(keys.map((k) => keyProof(k, n)));
  return withAccess("/credential", device, accessToken, { credential_configuration_id: configuration, proofs: { jwt: proofs } });
}

export async function walletKeys(n: number): Promise<Device[]> {
  return Promise.all(Array.from({ length: n }, () => newDevice()));
}

export { decodeJwt };
