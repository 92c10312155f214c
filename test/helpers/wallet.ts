import { SignJWT, decodeJwt } from "jose";
import { expect } from "vitest";
import { accessTokenHash } from "../../src/auth/dpop";
import { clock } from "../../src/lib/clock";
import { ORIGIN, call, join, poll, tick } from "./api";
import { newDevice, type Device } from "./device";
import { sendWithDpopNonce, serverDpopNonce } from "./dpop-nonce";
import { keyAttestation } from "./wallet-provider";

/**
 * A wallet's side of OpenID4VCI 1.0 (pre-authorized code flow), driven over HTTP as a phone would:
 * token (DPoP) → nonce → credential (DPoP + access token + key proofs) → notification. Every DPoP
 * proof carries the latest server nonce, and a use_dpop_nonce answer is retried once (./dpop-nonce.ts).
 */
export const MDOC = "fr.antichambre.mdl.mso_mdoc";

/**
 * One person through the door: joined (a new place), admitted at the next tick, and through the token
 * endpoint with their device key. Their device, ticket, pre-authorized code and access token.
 */
export async function issuanceSession(
  room: string,
  personId: string,
): Promise<{ device: Device; ticket: string; code: string; accessToken: string }> {
  const joined = await join(room, { personId });
  expect(joined.status).toBe(201);
  await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const granted = await token(joined.device, code);
  expect(granted.status).toBe(200);
  return { device: joined.device, ticket: joined.ticket, code, accessToken: granted.body.access_token as string };
}
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
  { dpopNonce }: { dpopNonce?: string | null } = {},
): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const url = `${ORIGIN}/token`;
  const send = async (nonce: string | null | undefined) =>
    call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", url, { nonce }) },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": code,
        ...extra,
      }),
    });
  // `dpopNonce` given (null: none): exactly that nonce, no retry, for tests of the nonce itself.
  const res = dpopNonce === undefined ? await sendWithDpopNonce(send) : await send(dpopNonce);
  return { status: res.status, body: (await res.json()) as Record<string, any>, res };
}

export async function nonce(): Promise<string> {
  const res = await call("/nonce", { method: "POST" });
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toContain("no-store");
  return ((await res.json()) as { c_nonce: string }).c_nonce;
}

/** A key proof (openid4vci-proof+jwt) by `key` for `cNonce`; `keyAttestation` goes in its `key_attestation` header. */
export async function keyProof(
  key: Device,
  cNonce: string,
  o: { aud?: string; typ?: string; iat?: number; keyAttestation?: string } = {},
): Promise<string> {
  return new SignJWT({ nonce: cNonce })
    .setProtectedHeader({
      alg: "ES256",
      typ: o.typ ?? "openid4vci-proof+jwt",
      jwk: key.publicJwk,
      ...(o.keyAttestation !== undefined ? { key_attestation: o.keyAttestation } : {}),
    })
    .setAudience(o.aud ?? ORIGIN)
    .setIssuedAt(o.iat ?? Math.floor(clock.now() / 1000))
    .sign(key.privateKey);
}

/** A DPoP proof for a request carrying `accessToken` (`ath`); `nonce` as in DpopOptions (default: the server's now). */
export async function accessProof(device: Device, url: string, accessToken: string, nonce?: string | null): Promise<string> {
  return new SignJWT({
    htm: "POST",
    htu: url,
    jti: crypto.randomUUID(),
    ath: await accessTokenHash(accessToken),
    ...(nonce === null ? {} : { nonce: nonce ?? (await serverDpopNonce()) }),
  })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(device.privateKey);
}

/**
 * POST with the DPoP-bound access token: `Authorization: DPoP <token>` and a proof carrying `ath` and
 * the server nonce (`dpopNonce` given, null for none: exactly that one and no retry).
 */
export async function withAccess(
  path: string,
  device: Device,
  accessToken: string,
  body: unknown,
  { scheme = "DPoP", dpopNonce, headers = {} }: { scheme?: string; dpopNonce?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const url = `${ORIGIN}${path}`;
  const send = async (nonce: string | null | undefined) =>
    call(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `${scheme} ${accessToken}`,
        dpop: await accessProof(device, url, accessToken, nonce),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const res = dpopNonce === undefined ? await sendWithDpopNonce(send) : await send(dpopNonce);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, res };
}

/**
 * A credential request with one proof per key. Each proof carries a key attestation of all the keys by
 * the development wallet provider, as a HAIP wallet's would: development only asks for them
 * optionally, but a sent one is always checked, so every flow test goes through that check too.
 */
export async function credential(device: Device, accessToken: string, configuration: string, keys: Device[], cNonce?: string) {
  const n = cNonce ?? (await nonce());
  const attestation = await keyAttestation(keys.map((k) => k.publicJwk));
  const proofs = await Promise.all(keys.map((k) => keyProof(k, n, { keyAttestation: attestation })));
  return withAccess("/credential", device, accessToken, { credential_configuration_id: configuration, proofs: { jwt: proofs } });
}

export async function walletKeys(n: number): Promise<Device[]> {
  return Promise.all(Array.from({ length: n }, () => newDevice()));
}

export { decodeJwt };
