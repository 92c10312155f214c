import { Holder, IssuerSigned } from "@owf/mdoc";
import { env, exports } from "cloudflare:workers";
import { base64url, calculateJwkThumbprint, createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyDpopProof } from "../../src/auth/dpop";
import {
  AdmissionExpiredError,
  AntichambreClient,
  AntichambreError,
  CredentialDeniedError,
  DeviceKey,
  MDOC_CONFIGURATION,
  MemoryKeyPairStore,
  PREQUEUE_SPREAD_MS,
  PrequeueNotOpenError,
  SD_JWT_CONFIGURATION,
  UnavailableError,
  parseCredentialOfferUri,
  type FetchLike,
  type RetryInfo,
  type TicketStatus,
} from "../../client";
import { DEV_IACA_CERT_PEM } from "../../src/config/dev-credentials";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import { ORIGIN, adminGet, createRoom, identityAssertion, join, newPersonId, testClock, tick } from "../helpers/api";
import { arm, disarmFaults } from "../helpers/faults";
import { loadX509, owfContext } from "../helpers/mdoc-verifier";

/**
 * The client SDK (client/) against the REAL Worker and Durable Objects: the SDK's injected fetch is
 * the Worker's own `exports.default.fetch`, its clock is the tests' manual clock, and its `sleep`
 * advances that clock and runs an admission tick instead of waiting. No assertion on elapsed time.
 */
const SEEDED = 40;

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
  await loadX509();
});

/** Holders whose licence is valid at the test clock's date. */
function validHolderId(skip: number): string {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids: string[] = [];
  for (let n = 1; n <= SEEDED; n++) if (syntheticHolder(n).expiry_date > today) ids.push(personIdFor(n));
  return ids[skip]!;
}

const workerFetch: FetchLike = (url, init) => exports.default.fetch(url, init);

interface Harness {
  client: AntichambreClient;
  /** Every wait the client asked for, in ms. */
  sleeps: number[];
  retries: RetryInfo[];
}

/** A client whose waits move the manual clock and run one admission tick of `room`. */
async function harness(room: string, options: { fetch?: FetchLike; maxAttempts?: number; device?: DeviceKey } = {}): Promise<Harness> {
  const sleeps: number[] = [];
  const retries: RetryInfo[] = [];
  const client = new AntichambreClient({
    baseUrl: ORIGIN,
    room,
    device: options.device ?? (await DeviceKey.create()),
    fetch: options.fetch ?? workerFetch,
    clock: () => testClock.now(),
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      await tick(room, ms);
    },
    retry: { maxAttempts: options.maxAttempts ?? 6 },
    onRetry: (info) => retries.push(info),
  });
  return { client, sleeps, retries };
}

/** The SD-JWT VC issuer's keys, as verifiers find them (JWT VC issuer metadata). */
async function issuerJwks() {
  const res = await workerFetch(`${ORIGIN}/.well-known/jwt-vc-issuer`);
  return createLocalJWKSet(((await res.json()) as { jwks: JSONWebKeySet }).jwks);
}

describe("DeviceKey", () => {
  it("is a non-extractable P-256 key whose DPoP proofs the service accepts (htu without query, ath)", async () => {
    const key = await DeviceKey.create();
    expect(key.privateKey.extractable).toBe(false);
    expect(key.publicJwk).toEqual({ kty: "EC", crv: "P-256", x: key.publicJwk.x, y: key.publicJwk.y });
    expect(key.thumbprint).toBe(await calculateJwkThumbprint(key.publicJwk, "sha256"));

    const now = testClock.now();
    const proof = await key.dpopProof({ method: "post", url: `${ORIGIN}/credential?x=1#f`, accessToken: "tok", now });
    const claims = decodeJwt(proof);
    expect(claims).toMatchObject({ htm: "POST", htu: `${ORIGIN}/credential`, iat: Math.floor(now / 1000) });
    expect(typeof claims.jti).toBe("string");
    const verified = await verifyDpopProof(proof, { method: "POST", url: `${ORIGIN}/credential` }, now, "tok");
    expect(verified).toMatchObject({ ok: true, jkt: key.thumbprint });
    // ath binds the proof to that token and no other.
    expect(await verifyDpopProof(proof, { method: "POST", url: `${ORIGIN}/credential` }, now, "other")).toEqual({
      ok: false,
      reason: "wrong_access_token_hash",
    });
  });

  it("loadOrCreate keeps one key pair in its store", async () => {
    const store = new MemoryKeyPairStore();
    const first = await DeviceKey.loadOrCreate(store);
    const again = await DeviceKey.loadOrCreate(store);
    expect(again.thumbprint).toBe(first.thumbprint);
    await store.clear();
    expect((await DeviceKey.loadOrCreate(store)).thumbprint).not.toBe(first.thumbprint);
  });
});

describe("AntichambreClient, whole flow", () => {
  it("joins, waits until admitted over explicit ticks, redeems an mdoc and SD-JWT VCs, notifies", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    // Two people ahead, so the client really waits.
    await join(room);
    await join(room);
    const personId = validHolderId(0);
    const { client, sleeps } = await harness(room);

    const joined = await client.join(await identityAssertion(personId));
    expect(joined.created).toBe(true);
    expect(joined.status).toBe("waiting");
    expect(client.ticket).toBe(joined.ticket);
    expect(client.place).toEqual(decodeJwt(joined.ticket).ord);
    expect(decodeJwt(joined.ticket).cnf).toEqual({ jkt: client.device.thumbprint });
    // Joining again (the same person on a second device) holds the same place. Its answer reads the
    // position as not counted yet (null) until the next tick: a re-join never asks every shard.
    const rejoined = await (await harness(room)).client.join(await identityAssertion(personId));
    expect(rejoined.created).toBe(false);
    expect(decodeJwt(rejoined.ticket).sub).toBe(decodeJwt(joined.ticket).sub);

    const updates: TicketStatus[] = [];
    const admitted = await client.waitUntilAdmitted({ onUpdate: (s) => updates.push(s) });
    expect(admitted.status).toBe("admitted");
    expect(updates.at(-1)).toBe(admitted);
    const waiting = updates.filter((u) => u.status === "waiting");
    expect(waiting.length).toBeGreaterThan(0);
    const positions = waiting.map((u) => (u.status === "waiting" ? (u.position ?? 0) : 0));
    expect([...positions].sort((a, b) => b - a)).toEqual(positions); // never moves back
    // One wait per waiting answer, each honouring poll_after_seconds (≥ 2 s) within the client's ±10 %.
    expect(sleeps).toHaveLength(waiting.length);
    waiting.forEach((u, i) => expect(sleeps[i]).toBe(u.status === "waiting" ? u.poll_after_seconds * 1000 : -1));

    const offer = admitted.admission.credential_offer;
    expect(parseCredentialOfferUri(admitted.admission.credential_offer_uri)).toEqual(offer);

    // mdoc, verified by @owf/mdoc against the IACA, bound to the fresh wallet key the SDK made.
    const mdl = await client.redeem(offer, { configurationId: MDOC_CONFIGURATION });
    expect(mdl.credentials).toHaveLength(1);
    const [{ credential: mdoc, key }] = mdl.credentials as [{ credential: string; key: DeviceKey }];
    expect(key.privateKey.extractable).toBe(false);
    const checks: { status: string }[] = [];
    await Holder.verifyIssuerSigned(
      {
        issuerSigned: mdoc,
        trustedCertificates: [pemToDer(DEV_IACA_CERT_PEM)],
        now: new Date(testClock.now() + 60_000),
        verificationCallback: (c) => checks.push(c),
      },
      owfContext(),
    );
    expect(checks.length).toBeGreaterThan(10);
    expect(checks.filter((c) => c.status !== "PASSED")).toEqual([]);
    const deviceKey = IssuerSigned.decode(base64url.decode(mdoc)).issuerAuth.mobileSecurityObject.deviceKeyInfo.deviceKey;
    expect(base64url.encode(deviceKey.x!)).toBe(key.publicJwk.x);

    // The same offer again, other format: the session is reused (the code is single use), batch of 2.
    const session = client.session;
    const sd = await client.redeem(offer, { configurationId: SD_JWT_CONFIGURATION, batch: 2 });
    expect(client.session).toBe(session);
    expect(sd.credentials).toHaveLength(2);
    const jwks = await issuerJwks();
    const holder = syntheticHolder(Number(personId.slice(3)));
    for (const c of sd.credentials) {
      const { payload } = await jwtVerify(c.credential.split("~")[0]!, jwks, {
        algorithms: ["ES256"],
        issuer: ORIGIN,
        typ: "dc+sd-jwt",
        currentDate: new Date(testClock.now()),
      });
      expect((payload.cnf as { jwk: { x: string } }).jwk.x).toBe(c.key.publicJwk.x);
      // Personal claims are all selectively disclosed: the name is in a disclosure, not in the payload.
      expect(JSON.stringify(payload)).not.toContain(holder.family_name);
    }

    expect((await adminGet(room)).sessions_open).toBe(1);
    await client.notify(mdl.notificationId!, "credential_accepted");
    expect((await adminGet(room)).sessions_open).toBe(0);
  });

  it("redeems an SD-JWT VC with the wallet's own keys, and reports a person with no licence as CredentialDeniedError", async () => {
    const room = await createRoom({ queueing_method: "passthrough", shards: 2 });
    const walletKeys = [await DeviceKey.create(), await DeviceKey.create()];
    const { client } = await harness(room);
    await client.join(await identityAssertion(validHolderId(1)));
    const admitted = await client.waitUntilAdmitted();
    const issued = await client.redeem(admitted.admission.credential_offer, { configurationId: SD_JWT_CONFIGURATION, walletKeys });
    expect(issued.credentials.map((c) => c.key)).toEqual(walletKeys);
    expect(typeof issued.notificationId).toBe("string");
    await client.notify(issued.notificationId!, "credential_accepted");

    const nobody = (await harness(room)).client;
    await nobody.join(await identityAssertion(newPersonId()));
    const offer = (await nobody.waitUntilAdmitted()).admission.credential_offer;
    const denied = await nobody.redeem(offer, { configurationId: MDOC_CONFIGURATION }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(CredentialDeniedError);
    expect(denied).toMatchObject({ status: 400, retryable: false, problem: { error: "credential_request_denied" } });
  });
});

describe("AntichambreClient, a lost token answer", () => {
  it("the used code is refused, the client polls for a fresh one and resumes the same session", async () => {
    const room = await createRoom({ queueing_method: "passthrough", shards: 1 });
    let dropped = 0;
    // The first token answer is lost after the service used the code (a dropped connection).
    const lossy: FetchLike = async (url, init) => {
      const res = await workerFetch(url, init);
      if (url.endsWith("/token") && dropped++ === 0) throw new TypeError("network connection lost");
      return res;
    };
    const { client, retries } = await harness(room, { fetch: lossy });
    await client.join(await identityAssertion(validHolderId(2)));
    const offer = (await client.waitUntilAdmitted()).admission.credential_offer;
    const issued = await client.redeem(offer, { configurationId: MDOC_CONFIGURATION });
    expect(issued.credentials).toHaveLength(1);
    expect(dropped).toBe(3); // lost, retried with the same code (refused: code_used), fresh code redeemed
    expect(retries.map((r) => r.operation)).toEqual(["token"]);
    expect((await adminGet(room)).sessions_open).toBe(1);
    // The other format on the same offer keeps using the resumed session.
    const session = client.session;
    await client.redeem(offer, { configurationId: SD_JWT_CONFIGURATION });
    expect(client.session).toBe(session);
  });
});

describe("AntichambreClient, handoff to a wallet on another device", () => {
  it("the wallet resolves the QR code's offer once, shows the confirmation code, and gets its token once the waiting device approves it", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const { client: page } = await harness(room);
    await page.join(await identityAssertion(validHolderId(3)));
    const admitted = await page.waitUntilAdmitted();
    const link = admitted.admission.handoff!.credential_offer_uri;
    expect(link.startsWith("openid-credential-offer://?credential_offer_uri=")).toBe(true);

    // The wallet's waits are where its user reads the code and types it on the page: the first wait
    // tries a wrong code, the second the right one.
    const shown: string[] = [];
    const approvals: unknown[] = [];
    const sleeps: number[] = [];
    const wallet = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: workerFetch,
      clock: () => testClock.now(),
      sleep: async (ms) => {
        sleeps.push(ms);
        testClock.advance(ms);
        const code = sleeps.length === 1 ? (shown[0]![0] === "A" ? "B" : "A") + shown[0]!.slice(1) : shown[0]!;
        approvals.push(await page.approveHandoff(code).catch((e: unknown) => e));
      },
    });
    const offer = await wallet.resolveCredentialOffer(link);
    expect(offer.credential_issuer).toBe(ORIGIN);
    // Without a way to show the code, the wallet cannot go on (and says so).
    await expect(wallet.token(offer)).rejects.toThrow(/onConfirmationCode/);
    const session = await wallet.token(offer, { onConfirmationCode: (c) => shown.push(c) });
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    expect(sleeps).toEqual([3_000, 3_000]);
    const wrong = approvals[0] as AntichambreError;
    expect(wrong).toBeInstanceOf(AntichambreError);
    expect(wrong.problem?.reason).toBe("wrong_code");
    expect(approvals[1]).toEqual({ attemptsLeft: 3 });
    const issued = await wallet.credential(session, { configurationId: MDOC_CONFIGURATION });
    expect(issued.credentials).toHaveLength(1);

    // The QR code's reference worked once: scanned again, it is refused.
    const again = await wallet.resolveCredentialOffer(link).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AntichambreError);
    expect((again as AntichambreError).status).toBe(404);
  });
});

describe("AntichambreClient, a register at capacity", () => {
  it("follows a deferral: waits each interval and asks the deferred credential endpoint until the credentials come, no 5xx", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const seen: string[] = [];
    const deferredSleeps: number[] = [];
    let armed = false;
    const client = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: async (url, init) => {
        const res = await workerFetch(url, init);
        seen.push(`${new URL(url).pathname} ${res.status}`);
        return res;
      },
      clock: () => testClock.now(),
      random: () => 0.5,
      sleep: async (ms) => {
        // The register recovers after the client's second wait on the deferral.
        if (armed && deferredSleeps.push(ms) === 2) disarmFaults();
        await tick(room, ms);
      },
    });
    await client.join(await identityAssertion(validHolderId(4)));
    const admitted = await client.waitUntilAdmitted();
    arm({ "register.busy": { mode: "throw" } });
    armed = true;
    try {
      const issued = await client.redeem(admitted.admission.credential_offer, { configurationId: MDOC_CONFIGURATION, batch: 2 });
      expect(issued.credentials).toHaveLength(2);
      expect(issued.notificationId).not.toBeNull();
    } finally {
      disarmFaults();
    }
    const issuance = seen.filter((line) => /^\/(credential|deferred_credential) /.test(line));
    expect(issuance).toEqual(["/credential 202", "/deferred_credential 202", "/deferred_credential 200"]);
    expect(seen.filter((line) => / 5\d\d$/.test(line))).toEqual([]);
    // Each wait honoured the interval the issuer gave (at least 1 s).
    expect(deferredSleeps).toHaveLength(2);
    for (const ms of deferredSleeps) expect(ms).toBeGreaterThanOrEqual(1000);
  });
});

describe("AntichambreClient, failures", () => {
  it("backs off on a 503 with Retry-After and on a network error, then carries on", async () => {
    const room = await createRoom({ queueing_method: "passthrough", shards: 1 });
    let polls = 0;
    let credentials = 0;
    let nonces = 0;
    const flaky: FetchLike = async (url, init) => {
      const path = new URL(url).pathname;
      if (path.endsWith("/tickets/current") && polls++ === 0) {
        return new Response(
          JSON.stringify({
            type: "urn:antichambre:problem:temporarily-unavailable",
            title: "Temporarily unavailable",
            status: 503,
            detail: "busy",
          }),
          {
            status: 503,
            headers: { "content-type": "application/problem+json", "retry-after": "3" },
          },
        );
      }
      if (path === "/nonce") nonces++;
      if (path === "/credential" && credentials++ === 0) throw new TypeError("fetch failed: connection reset");
      return workerFetch(url, init);
    };
    const { client, retries, sleeps } = await harness(room, { fetch: flaky });
    await client.join(await identityAssertion(validHolderId(2)));
    const admitted = await client.waitUntilAdmitted();
    expect(admitted.status).toBe("admitted");

    expect(retries[0]).toMatchObject({ operation: "status", attempt: 1 });
    const busy = retries[0]!.error;
    expect(busy).toBeInstanceOf(UnavailableError);
    expect(busy).toMatchObject({
      status: 503,
      retryable: true,
      retryAfterSeconds: 3,
      problem: { type: "urn:antichambre:problem:temporarily-unavailable", detail: "busy" },
    });
    expect(busy.kind).toBe("temporarily-unavailable");
    // Retry-After is a floor for the wait the client asked for (plus jitter on top).
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(3_000);
    expect(sleeps[0]).toBe(retries[0]!.delayMs);

    const issued = await client.redeem(admitted.admission.credential_offer, { configurationId: MDOC_CONFIGURATION });
    expect(issued.credentials).toHaveLength(1);
    expect(retries[1]).toMatchObject({ operation: "credential", attempt: 1 });
    expect(retries[1]!.error.name).toBe("NetworkError");
    expect(retries[1]!.error.status).toBe(0);
    // The retry made a new key proof over a new c_nonce (both are single use).
    expect(credentials).toBe(2);
    expect(nonces).toBe(2);
  });

  it("gives up after maxAttempts on a service that stays unavailable, with the last problem", async () => {
    const room = await createRoom({ shards: 1 });
    let calls = 0;
    const down: FetchLike = async () => {
      calls++;
      return new Response(
        JSON.stringify({ type: "urn:antichambre:problem:room-closed", title: "Room not accepting arrivals", status: 503, detail: "full" }),
        {
          status: 503,
          headers: { "content-type": "application/problem+json", "retry-after": "60" },
        },
      );
    };
    const { client, sleeps } = await harness(room, { fetch: down, maxAttempts: 3 });
    const error = await client.join(await identityAssertion(newPersonId())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ status: 503, retryable: true, retryAfterSeconds: 60 });
    expect(calls).toBe(3);
    expect(sleeps.every((ms) => ms >= 60_000)).toBe(true);
  });

  it("does not retry what cannot succeed: a bad identity assertion is an AntichambreError with its problem", async () => {
    const room = await createRoom({ shards: 1 });
    let calls = 0;
    const counting: FetchLike = (url, init) => {
      calls++;
      return workerFetch(url, init);
    };
    const { client, retries } = await harness(room, { fetch: counting });
    const error = await client.join("not.an.assertion").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AntichambreError);
    expect(error).toMatchObject({ status: 401, retryable: false, problem: { type: "urn:antichambre:problem:invalid-identity-assertion" } });
    expect(calls).toBe(1);
    expect(retries).toEqual([]);
    await expect(client.status()).rejects.toThrow(/join first/);
  });

  it("stops with AdmissionExpiredError when the admission lapsed unused", async () => {
    const room = await createRoom({ admission_ttl_seconds: 10, shards: 1 });
    const { client } = await harness(room);
    await client.join(await identityAssertion(newPersonId()));
    await tick(room);
    expect((await client.status()).status).toBe("admitted");
    await tick(room, 11_000);
    const updates: TicketStatus[] = [];
    const error = await client.waitUntilAdmitted({ onUpdate: (s) => updates.push(s) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdmissionExpiredError);
    expect(updates).toEqual([{ status: "expired" }]);
  });

  it("stops polling when its signal aborts, and resumes from a saved ticket", async () => {
    const room = await createRoom({ paused: true, shards: 1 });
    const controller = new AbortController();
    const device = await DeviceKey.create();
    const first = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device,
      fetch: workerFetch,
      clock: () => testClock.now(),
      sleep: async () => controller.abort(new Error("user left the screen")),
    });
    await first.join(await identityAssertion(newPersonId()));
    await expect(first.waitUntilAdmitted({ signal: controller.signal })).rejects.toThrow("user left the screen");

    // The app restarts with the saved ticket: no join, same place.
    const resumed = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device,
      fetch: workerFetch,
      clock: () => testClock.now(),
      ticket: first.ticket!,
    });
    const status = await resumed.status();
    expect(status).toMatchObject({ status: "waiting", position: 1, estimated_wait_seconds: null });
    expect(resumed.place).toEqual(first.place);
  });
});

describe("AntichambreClient, a room with a scheduled event", () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  async function scheduled(room: string, preInMs: number, startInMs: number): Promise<{ pre: number; start: number }> {
    const now = testClock.now();
    const body = { event: { prequeue_start: iso(now + preInMs), event_start: iso(now + startInMs) } };
    const res = await workerFetch(`${ORIGIN}/v1/admin/rooms/${room}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: "Bearer dev-admin-token" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return { pre: now + preInMs, start: now + startInMs };
  }

  it("join waits for the pre-queue to open (the server's Retry-After plus a spread), then enters the draw", async () => {
    const room = await createRoom({ shards: 1 });
    const { pre, start } = await scheduled(room, 20_000, 200_000);
    const sleeps: number[] = [];
    const waits: { opensAt: string; delayMs: number }[] = [];
    const client = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: workerFetch,
      clock: () => testClock.now(),
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        testClock.advance(ms);
      },
      onPrequeueWait: (info) => waits.push(info),
    });
    const joined = await client.join(await identityAssertion(newPersonId()));
    expect(waits).toEqual([{ opensAt: iso(pre), delayMs: 20_000 + PREQUEUE_SPREAD_MS / 2 }]);
    expect(sleeps).toEqual([20_000 + PREQUEUE_SPREAD_MS / 2]);
    expect(testClock.now()).toBeGreaterThanOrEqual(pre);
    expect(joined).toMatchObject({ status: "waiting", position: null, lottery_at: iso(start), created: true });
    // An entrant's key is its draw: sealed in the ticket, so the client cannot read it.
    expect(client.place).toBeNull();
  });

  it("with waitForPrequeue: false, throws PrequeueNotOpenError at once, with the opening and Retry-After", async () => {
    const room = await createRoom({ shards: 1 });
    const { pre } = await scheduled(room, 90_000, 200_000);
    const { client, sleeps, retries } = await harness(room);
    const error = await client.join(await identityAssertion(newPersonId()), { waitForPrequeue: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrequeueNotOpenError);
    expect(error).toMatchObject({ status: 409, retryable: false, retryAfterSeconds: 90, opensAt: iso(pre) });
    expect((error as AntichambreError).kind).toBe("prequeue-not-open");
    expect(sleeps).toEqual([]);
    expect(retries).toEqual([]);
    expect(client.ticket).toBeNull();
  });
});
