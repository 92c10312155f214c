// @ts-check
// The benchmark's client side: a phone's keys and proofs (jose, as test/e2e/run.mjs makes them), the
// API calls that set up rooms, tickets and sessions, and the pre-generation of request bodies for the
// timed runs (every timed request must be a new person, device, proof or nonce, and making those during
// the run would load the same two cores the server runs on).
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export const ADMIN_TOKEN = "dev-admin-token";
export const MDOC_CONFIGURATION = "fr.antichambre.mdl.mso_mdoc";
const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One request; JSON in and out. Idempotent calls (`retries` > 0) are retried on a transport failure (a
 * keep-alive connection the server closed just as it was reused).
 * @typedef {{ status: number, json: any, text: string, describe: () => string }} HttpAnswer `json`: the endpoint's JSON, null when not JSON
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {{ headers?: Record<string, string>, body?: unknown, token?: string, retries?: number, timeoutMs?: number }} [options]
 * @returns {Promise<HttpAnswer>}
 */
export async function http(base, method, path, { headers = {}, body, token, retries = 0, timeoutMs = 120_000 } = {}) {
  /** @type {Record<string, string>} */
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  /** @type {string | undefined} */
  let payload = typeof body === "string" ? body : undefined;
  if (body !== undefined && typeof body !== "string") {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${base}${path}`, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: callers look at text.
      }
      return { status: res.status, json, text, describe: () => `${method} ${path} → ${res.status} ${text.slice(0, 300)}` };
    } catch (error) {
      if (attempt >= retries) throw error;
      await sleep(200 * (attempt + 1));
    }
  }
}

/**
 * Fails loudly with the response when the status is not the expected one.
 * @param {HttpAnswer} res
 * @param {...number} statuses
 */
export function expectStatus(res, ...statuses) {
  if (!statuses.includes(res.status)) throw new Error(`unexpected answer: ${res.describe()}`);
  return res;
}

/**
 * `fn` over `items` with at most `concurrency` in flight; results in order.
 * @template T, R
 * @param {T[]} items
 * @param {number} concurrency
 * @param {(item: T, index: number) => Promise<R>} fn
 * @param {(done: number) => void} [onProgress]
 * @returns {Promise<R[]>}
 */
export async function mapPool(items, concurrency, fn, onProgress) {
  /** @type {R[]} */
  const out = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(/** @type {T} */ (items[i]), i);
      done++;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** A phone: an ES256 device key, and DPoP proofs (RFC 9449) made with it. */
export class Device {
  static async create() {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const { kty, crv, x, y } = await exportJWK(publicKey);
    return new Device(privateKey, { kty, crv, x, y });
  }

  /**
   * @param {import("jose").CryptoKey} privateKey
   * @param {import("jose").JWK} jwk
   */
  constructor(privateKey, jwk) {
    this.privateKey = privateKey;
    this.jwk = jwk;
  }

  /**
   * A DPoP proof for `method url`; `ath` when it accompanies an access token, `nonce` the issuer's DPoP
   * nonce where the endpoint requires one (RFC 9449 §8–9).
   * @param {string} method
   * @param {string} url
   * @param {string} [ath]
   * @param {string} [nonce]
   */
  proof(method, url, ath, nonce) {
    return new SignJWT({ htm: method, htu: url, jti: randomUUID(), ...(ath ? { ath } : {}), ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: this.jwk })
      .setIssuedAt()
      .sign(this.privateKey);
  }

  /**
   * An OpenID4VCI key proof (`openid4vci-proof+jwt`) for `nonce`, addressed to `issuer`.
   * @param {string} issuer
   * @param {string} nonce
   */
  keyProof(issuer, nonce) {
    return new SignJWT({ nonce })
      .setProtectedHeader({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: this.jwk })
      .setAudience(issuer)
      .setIssuedAt()
      .sign(this.privateKey);
  }
}

/** @param {string} text */
export async function sha256b64url(text) {
  return Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("base64url");
}

// ---- API calls -----------------------------------------------------------------------------------------

/**
 * @param {string} base
 * @param {string} room
 * @param {Record<string, unknown>} config
 */
export async function putRoom(base, room, config) {
  return expectStatus(await http(base, "PUT", `/v1/admin/rooms/${room}`, { body: config, token: ADMIN_TOKEN, retries: 2 }), 200, 201).json;
}

/**
 * @param {string} base
 * @param {string} room
 */
export async function roomStats(base, room) {
  return expectStatus(await http(base, "GET", `/v1/admin/rooms/${room}`, { token: ADMIN_TOKEN, retries: 2 }), 200).json;
}

/**
 * From the development identity service (POST /v1/dev/identity-assertions).
 * @param {string} base
 * @param {string} personId
 * @returns {Promise<string>}
 */
export async function identityAssertion(base, personId) {
  const res = expectStatus(await http(base, "POST", "/v1/dev/identity-assertions", { body: { person_id: personId }, retries: 2 }), 201);
  return res.json.identity_assertion;
}

/**
 * A join's headers and body, ready to send (the proof is for `base`'s join URL).
 * @param {string} base
 * @param {string} room
 * @param {Device} device
 * @param {string} assertion
 */
export async function joinRequest(base, room, device, assertion) {
  const path = `/v1/rooms/${room}/tickets`;
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json", dpop: await device.proof("POST", `${base}${path}`) },
    body: JSON.stringify({ identity_assertion: assertion }),
  };
}

/**
 * Joins one new person with a new device; returns {device, ticket, status}.
 * @param {string} base
 * @param {string} room
 * @param {string} personId
 * @returns {Promise<{ device: Device, ticket: string, status: string, position?: number }>}
 */
export async function joinPerson(base, room, personId) {
  const device = await Device.create();
  const req = await joinRequest(base, room, device, await identityAssertion(base, personId));
  const res = expectStatus(await http(base, "POST", req.path, { headers: req.headers, body: req.body }), 201);
  return { device, ticket: res.json.ticket, status: res.json.status, position: res.json.position };
}

/**
 * @param {string} base
 * @param {string} room
 * @param {string} ticket
 */
export async function poll(base, room, ticket) {
  return http(base, "GET", `/v1/rooms/${room}/tickets/current`, { token: ticket, retries: 2 });
}

/**
 * Pre-generates `count` joins by distinct people (`<prefix>-<first>` …) on distinct devices: identity
 * assertions from the development identity service (32 at a time), device keys and DPoP proofs made here.
 * @param {string} base
 * @param {string} room
 * @param {number} count
 * @param {string} prefix
 * @param {(done: number) => void} [onProgress]
 */
export async function pregenerateJoins(base, room, count, prefix, onProgress, first = 0) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(first + i).padStart(6, "0")}`);
  return mapPool(
    ids,
    32,
    async (personId) => joinRequest(base, room, await Device.create(), await identityAssertion(base, personId)),
    onProgress,
  );
}

/**
 * An admitted session: join a passthrough room, poll until admitted, redeem the pre-authorized code at
 * /token with a DPoP proof by the same device (and the DPoP nonce the token endpoint asks for). Returns
 * {device, accessToken, ath, personId, dpopNonce}: the nonce the token answer carried, good for 5 to 10
 * minutes, which the pre-generated credential requests carry.
 * @typedef {{ device: Device, personId: string, accessToken: string, ath: string, dpopNonce: string | undefined }} Session
 * @param {string} base
 * @param {string} room
 * @param {string} personId
 * @returns {Promise<Session>}
 */
export async function admittedSession(base, room, personId) {
  const { device, ticket } = await joinPerson(base, room, personId);
  /** The ticket's status answer (JSON). @type {any} */
  let body;
  for (let i = 0; i < 60; i++) {
    body = expectStatus(await poll(base, room, ticket), 200).json;
    if (body.status === "admitted") break;
    await sleep(250);
  }
  if (body.status !== "admitted") throw new Error(`${personId} not admitted after 15 s: ${JSON.stringify(body)}`);
  const code = body.admission.credential_offer.grants[PRE_AUTHORIZED_GRANT]["pre-authorized_code"];
  /** @param {string | undefined} nonce */
  const send = async (nonce) =>
    fetch(`${base}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", `${base}/token`, undefined, nonce) },
      body: new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, "pre-authorized_code": code }),
    });
  let res = await send(undefined);
  let token = /** @type {{ access_token: string, error?: string }} */ (await res.json());
  // The first proof has no nonce: the answer asks for one (RFC 9449 §8) and carries it.
  if (token.error === "use_dpop_nonce") {
    res = await send(res.headers.get("dpop-nonce") ?? undefined);
    token = /** @type {{ access_token: string }} */ (await res.json());
  }
  if (res.status !== 200) throw new Error(`token for ${personId}: ${res.status} ${JSON.stringify(token)}`);
  return {
    device,
    personId,
    accessToken: token.access_token,
    ath: await sha256b64url(token.access_token),
    dpopNonce: res.headers.get("dpop-nonce") ?? undefined,
  };
}

/**
 * Pre-generates `count` mdoc credential requests for `base` (its /credential URL in the DPoP proof, its
 * origin as the key proof's audience), spread over `sessions`: each with a fresh c_nonce (from
 * `nonceBase`'s /nonce), a key proof by one of `walletKeys`, and a fresh DPoP proof with `ath`.
 * @param {string} base
 * @param {string} nonceBase
 * @param {Session[]} sessions
 * @param {Device[]} walletKeys
 * @param {number} count
 * @param {(done: number) => void} [onProgress]
 */
export async function pregenerateCredentialRequests(base, nonceBase, sessions, walletKeys, count, onProgress) {
  return mapPool(
    Array.from({ length: count }, (_, i) => i),
    32,
    async (i) => {
      // Both lists are non-empty: the indices are in range.
      const session = /** @type {Session} */ (sessions[i % sessions.length]);
      const nonce = expectStatus(await http(nonceBase, "POST", "/nonce", { retries: 2 }), 200).json.c_nonce;
      const keyProof = await /** @type {Device} */ (walletKeys[i % walletKeys.length]).keyProof(base, nonce);
      return {
        method: "POST",
        path: "/credential",
        headers: {
          "content-type": "application/json",
          authorization: `DPoP ${session.accessToken}`,
          dpop: await session.device.proof("POST", `${base}/credential`, session.ath, session.dpopNonce),
        },
        body: JSON.stringify({ credential_configuration_id: MDOC_CONFIGURATION, proofs: { jwt: [keyProof] } }),
      };
    },
    onProgress,
  );
}
