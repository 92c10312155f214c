import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { QueueShard } from "../../durable-objects/queue-shard";
import { AntichambreClient, DeviceKey, MDOC_CONFIGURATION, SD_JWT_CONFIGURATION } from "../../client";
import { accessTokenHash } from "../../src/auth/dpop";
import { DEFAULT_RATE_LIMITS, type LimitScope } from "../../src/config/abuse-config";
import type { Env } from "../../src/config/env";
import {
  withEnv,
  checkAnswersAgainstOpenApiInThisFile,
  ADMIN_TOKEN,
  ORIGIN,
  adminGet,
  call,
  createRoom,
  expectProblem,
  identityAssertion,
  join,
  newDevice,
  newPersonId,
  poll,
  testClock,
  tick,
} from "../helpers/api";
import type { Device } from "../helpers/device";
import { serverDpopNonce } from "../helpers/dpop-nonce";
import { scannedCode } from "../helpers/handoff";
import { seedValidHolders } from "../helpers/register";
import { SD_JWT, admittedOffer, keyProof, nonce, token } from "../helpers/wallet";

/**
 * Rate limits past the door (src/edge/rate-limits.ts, src/edge/address-limit.ts): /token per client
 * address and per code, /nonce per client address, /credential per issuance session, /notification,
 * the admin API and /admin/login per client address; joins per person whatever device key they come
 * from. Each refusal is 429 problem+json with Retry-After, and each test shows the handler did not run
 * (a body never read, a DPoP jti or c_nonce left unused, a room not created, no session cookie).
 *
 * The in-isolate layer runs on the tests' manual clock: tests tighten a limit through the Worker's
 * variables (the app called with an env override) and move time to watch it refill. Client addresses
 * are set with cf-connecting-ip; requests without one (or from a local address) are not counted by address.
 */
const GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

let holders: string[] = [];
let nextHolder = 0;
/** A person whose licence is valid on the test clock's date, never the same twice in this file. */
const validHolder = (): string => holders[nextHolder++]!;

beforeAll(async () => {
  holders = await seedValidHolders(40);
});

async function expectRateLimited(res: Response, scope: string, retryAfter: number): Promise<Record<string, any>> {
  const body = await expectProblem(res, 429, "rate-limited");
  expect(body.reason).toBe(scope);
  expect(res.headers.get("retry-after")).toBe(String(retryAfter));
  expect(body.retry_after_seconds).toBe(retryAfter);
  return body;
}

const from = (ip: string, headers: Record<string, string> = {}): Record<string, string> => ({ "cf-connecting-ip": ip, ...headers });

function tokenRequest(code: string, dpop: string, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", dpop, ...headers },
    body: new URLSearchParams({ grant_type: GRANT, "pre-authorized_code": code }),
  };
}

/** A DPoP proof for a request with the access token (`ath`), by `device`. */
async function accessProof(device: Device, path: string, accessToken: string): Promise<string> {
  return new SignJWT({
    htm: "POST",
    htu: `${ORIGIN}${path}`,
    jti: crypto.randomUUID(),
    ath: await accessTokenHash(accessToken),
    nonce: await serverDpopNonce(),
  })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(testClock.now() / 1000))
    .sign(device.privateKey);
}

async function credentialRequest(device: Device, accessToken: string, cNonce: string): Promise<RequestInit> {
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `DPoP ${accessToken}`,
      dpop: await accessProof(device, "/credential", accessToken),
    },
    body: JSON.stringify({ credential_configuration_id: SD_JWT, proofs: { jwt: [await keyProof(await newDevice(), cNonce)] } }),
  };
}

/** A licence holder joined, admitted and holding the admission's pre-authorized code. */
async function admitted(room: string): Promise<{ device: Device; code: string; ticket: string }> {
  const joined = await join(room, { personId: validHolder() });
  expect(joined.status).toBe(201);
  await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  return { device: joined.device, code, ticket: joined.ticket };
}

/** …and past /token: an access token for the issuance session. */
async function inSession(room: string): Promise<{ device: Device; accessToken: string }> {
  const { device, code } = await admitted(room);
  const granted = await token(device, code);
  expect(granted.status).toBe(200);
  return { device, accessToken: granted.body.access_token as string };
}

describe("/token", () => {
  it("is limited per client address before the form is read or any proof checked; other and local addresses are not affected", async () => {
    const send = withEnv({ RATE_LIMIT_TOKEN_CLIENT: "2/60" });
    const garbage = (ip: string) =>
      send("/token", { method: "POST", headers: from(ip, { "content-type": "text/plain" }), body: "not a form" });
    // The handler answers these (it refuses the content type)...
    await expectProblem(await garbage("198.51.100.10"), 400, "invalid-request");
    await expectProblem(await garbage("198.51.100.10"), 400, "invalid-request");
    // ...until the address has used its budget: then nothing of the request is looked at.
    await expectRateLimited(await garbage("198.51.100.10"), "token_client", 30);
    await expectProblem(await garbage("198.51.100.11"), 400, "invalid-request");
    for (let i = 0; i < 4; i++) await expectProblem(await garbage("127.0.0.1"), 400, "invalid-request");
    // Refilled: one token every 30 s.
    testClock.advance(30_000);
    await expectProblem(await garbage("198.51.100.10"), 400, "invalid-request");
  });

  it("is limited per code (per admission) with the code's own key; a stranger's key uses none of it, and a refused request claims nothing", async () => {
    const room = await createRoom({ shards: 1 });
    const { device, code, ticket } = await admitted(room);
    const other = await admitted(room);
    const send = withEnv({ RATE_LIMIT_TOKEN_CODE: "2/60" });
    const url = `${ORIGIN}/token`;
    // Someone holding a copy of the device-bound code, with their own key: refused before it counts.
    const stranger = await newDevice();
    for (let i = 0; i < 5; i++) {
      const res = await send("/token", tokenRequest(code, await stranger.proof("POST", url)));
      expect((await expectProblem(res, 400, "invalid-dpop-proof")).reason).toBe("key_not_bound_to_code");
    }
    // The device itself: its first redemption, then a repeat of the spent code (refused, and counted).
    expect((await send("/token", tokenRequest(code, await device.proof("POST", url)))).status).toBe(200);
    expect(
      (await expectProblem(await send("/token", tokenRequest(code, await device.proof("POST", url))), 400, "invalid-grant")).reason,
    ).toBe("code_used");
    // A fresh code for the same admission (a lost answer) shares the admission's budget.
    const fresh = (await admittedOffer(room, ticket)).code;
    const kept = await device.proof("POST", url, { jti: `kept-${crypto.randomUUID()}` });
    await expectRateLimited(await send("/token", tokenRequest(fresh, kept)), "token_code", 30);
    // Another admission's code has its own budget.
    expect((await send("/token", tokenRequest(other.code, await other.device.proof("POST", url)))).status).toBe(200);
    // The refused proof and code were never claimed as used: once refilled, they go through.
    testClock.advance(30_000);
    expect((await send("/token", tokenRequest(fresh, kept))).status).toBe(200);
    // And the proof is claimed now: a replay of it is refused as such.
    testClock.advance(30_000);
    expect((await expectProblem(await send("/token", tokenRequest(fresh, kept)), 400, "invalid-dpop-proof")).reason).toBe("replayed");
  });

  it("counts an admission's handoff code apart: someone who saw the QR code cannot stall the device's own redemption", async () => {
    const room = await createRoom({ shards: 1 });
    const joined = await join(room, { personId: validHolder() });
    await tick(room);
    // Whoever scanned the page's QR code holds the handoff code (a wallet the page has not approved).
    const handoffCode = await scannedCode(room, joined.ticket);
    const { body } = await poll(room, joined.ticket);
    const boundCode = body.admission.credential_offer.grants[GRANT]["pre-authorized_code"] as string;
    const send = withEnv({ RATE_LIMIT_TOKEN_CODE: "3/60" });
    const url = `${ORIGIN}/token`;
    const onlooker = await newDevice();
    const guess = async () => send("/token", tokenRequest(handoffCode, await onlooker.proof("POST", url)));
    for (let i = 0; i < 3; i++) expect(((await (await guess()).json()) as { error: string }).error).toBe("authorization_pending");
    await expectRateLimited(await guess(), "token_code", 20);
    expect((await send("/token", tokenRequest(boundCode, await joined.device.proof("POST", url)))).status).toBe(200);
  });
});

describe("/nonce", () => {
  it("is limited per client address, and hands out no c_nonce past the limit", async () => {
    const send = withEnv({ RATE_LIMIT_NONCE_CLIENT: "2/60" });
    const ask = (ip: string) => send("/nonce", { method: "POST", headers: from(ip) });
    for (let i = 0; i < 2; i++)
      expect(typeof ((await (await ask("2001:db8:90:1::1")).json()) as { c_nonce?: unknown }).c_nonce).toBe("string");
    // Another address in the same IPv6 /64 is the same client.
    const refused = await expectRateLimited(await ask("2001:db8:90:1::2"), "nonce_client", 30);
    expect(refused.c_nonce).toBeUndefined();
    expect((await ask("2001:db8:90:2::1")).status).toBe(200);
  });
});

describe("/credential", () => {
  it("is limited per issuance session, before the request is read: the refused request's c_nonce stays unused", async () => {
    const room = await createRoom({ shards: 1 });
    const mine = await inSession(room);
    const theirs = await inSession(room);
    const send = withEnv({ RATE_LIMIT_CREDENTIAL_SESSION: "1/60" });
    expect((await send("/credential", await credentialRequest(mine.device, mine.accessToken, await nonce()))).status).toBe(200);
    const kept = await nonce();
    await expectRateLimited(
      await send("/credential", await credentialRequest(mine.device, mine.accessToken, kept)),
      "credential_session",
      60,
    );
    // Another session is not affected.
    expect((await send("/credential", await credentialRequest(theirs.device, theirs.accessToken, await nonce()))).status).toBe(200);
    // Refilled: the c_nonce of the refused request was never consumed, so it still works.
    testClock.advance(60_000);
    expect((await send("/credential", await credentialRequest(mine.device, mine.accessToken, kept))).status).toBe(200);
  });
});

describe("/notification", () => {
  it("is limited per client address before the access token is looked at", async () => {
    const send = withEnv({ RATE_LIMIT_NOTIFICATION_CLIENT: "2/60" });
    const notify = (ip: string) =>
      send("/notification", { method: "POST", headers: from(ip, { "content-type": "application/json" }), body: "{}" });
    await expectProblem(await notify("203.0.113.30"), 401, "invalid-token");
    await expectProblem(await notify("203.0.113.30"), 401, "invalid-token");
    await expectRateLimited(await notify("203.0.113.30"), "notification_client", 30);
    await expectProblem(await notify("203.0.113.31"), 401, "invalid-token");
  });

  it("leaves the session open when it refuses a real notification", async () => {
    const room = await createRoom({ shards: 1 });
    const { device, accessToken } = await inSession(room);
    const issued = await call("/credential", await credentialRequest(device, accessToken, await nonce()));
    const notificationId = ((await issued.json()) as { notification_id: string }).notification_id;
    const send = withEnv({ RATE_LIMIT_NOTIFICATION_CLIENT: "1/60" });
    await send("/notification", { method: "POST", headers: from("203.0.113.32", { "content-type": "application/json" }), body: "{}" });
    const open = (await adminGet(room)).sessions_open as number;
    expect(open).toBe(1);
    const res = await send("/notification", {
      method: "POST",
      headers: from("203.0.113.32", {
        "content-type": "application/json",
        authorization: `DPoP ${accessToken}`,
        dpop: await accessProof(device, "/notification", accessToken),
      }),
      body: JSON.stringify({ notification_id: notificationId, event: "credential_accepted" }),
    });
    await expectRateLimited(res, "notification_client", 60);
    expect((await adminGet(room)).sessions_open).toBe(open);
  });
});

describe("the admin API and the dashboard's login", () => {
  it("the admin API is limited per client address before the admin token is checked; a refused change is not made", async () => {
    const send = withEnv({ RATE_LIMIT_ADMIN_CLIENT: "2/60" });
    const room = `limited-${Date.now().toString(36)}`;
    const create = (ip: string) =>
      send(`/v1/admin/rooms/${room}`, {
        method: "PUT",
        headers: from(ip, { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` }),
        body: JSON.stringify({ shards: 1 }),
      });
    // Token guessing from one address: two tries, then refused before the guess is compared.
    for (let i = 0; i < 2; i++)
      await expectProblem(
        await send(`/v1/admin/rooms/${room}`, { headers: from("198.51.100.40", { authorization: `Bearer guess-${i}` }) }),
        401,
        "unauthorized",
      );
    await expectRateLimited(
      await send(`/v1/admin/rooms/${room}`, { headers: from("198.51.100.40", { authorization: "Bearer guess-2" }) }),
      "admin_client",
      30,
    );
    // Even the right token from that address waits its turn, and the room it asked for is not created.
    await expectRateLimited(await create("198.51.100.40"), "admin_client", 30);
    expect((await call(`/v1/admin/rooms/${room}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
    // Another address is not affected.
    expect((await create("198.51.100.41")).status).toBe(201);
  });

  it("the login is limited per client address: past the limit even the right token sets no session", async () => {
    const send = withEnv({ RATE_LIMIT_ADMIN_LOGIN_CLIENT: "2/60" });
    const login = (ip: string, token: string) =>
      send("/admin/login", {
        method: "POST",
        headers: from(ip, { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN }),
        body: new URLSearchParams({ token }),
      });
    for (let i = 0; i < 2; i++) expect((await login("192.0.2.50", `guess-${i}`)).status).toBe(401);
    const refused = await login("192.0.2.50", ADMIN_TOKEN);
    await expectRateLimited(refused, "admin_login_client", 30);
    expect(refused.headers.get("set-cookie")).toBeNull();
    const elsewhere = await login("192.0.2.51", ADMIN_TOKEN);
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.headers.get("set-cookie")).not.toBeNull();
  });
});

describe("joins per person", () => {
  it("50 fresh device keys with one identity: capped at the default per-person limit, one place held, others not affected", async () => {
    const room = await createRoom({ shards: 4 });
    const personId = newPersonId();
    const statuses: number[] = [];
    let refusal: Response | null = null;
    for (let i = 0; i < 50; i++) {
      const joined = await exports.default.fetch(`${ORIGIN}/v1/rooms/${room}/tickets`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          dpop: await (await newDevice()).proof("POST", `${ORIGIN}/v1/rooms/${room}/tickets`),
        },
        body: JSON.stringify({ identity_assertion: await identityAssertion(personId) }),
      });
      statuses.push(joined.status);
      if (joined.status === 429) refusal ??= joined;
      else await joined.body?.cancel();
    }
    // RATE_LIMIT_JOIN_PERSON's default, 20 a minute: the first join and 19 re-joins, then one every 3 s.
    expect(statuses).toEqual([201, ...Array<number>(19).fill(200), ...Array<number>(30).fill(429)]);
    await expectRateLimited(refusal!, "join_person", 3);
    await tick(room);
    expect((await adminGet(room)).shards.reduce((n: number, s: { tickets: number }) => n + s.tickets, 0)).toBe(1);
    expect((await join(room)).status).toBe(201);
  });

  it("refuses before any shard is asked", async () => {
    const room = await createRoom({ shards: 2 });
    const calls: string[] = [];
    const send = withEnv({ RATE_LIMIT_JOIN_PERSON: "1/60", QUEUE_SHARD: countingShards(calls) });
    const personId = newPersonId();
    const joinVia = async () =>
      send(`/v1/rooms/${room}/tickets`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          dpop: await (await newDevice()).proof("POST", `${ORIGIN}/v1/rooms/${room}/tickets`),
        },
        body: JSON.stringify({ identity_assertion: await identityAssertion(personId) }),
      });
    expect((await joinVia()).status).toBe(201);
    const before = calls.length;
    await expectRateLimited(await joinVia(), "join_person", 60);
    expect(calls.length).toBe(before);
  });
});

/**
 * The queue shard namespace, wrapped to record every call the join makes (method and shard name).
 * Only the methods the join path uses are forwarded: any other would fail the test loudly.
 */
function countingShards(calls: string[]): DurableObjectNamespace<QueueShard> {
  const names = new Map<string, string>();
  return {
    idFromName(name: string) {
      const id = env.QUEUE_SHARD.idFromName(name);
      names.set(id.toString(), name);
      return id;
    },
    get(id: DurableObjectId) {
      const stub = env.QUEUE_SHARD.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>;
      const name = names.get(id.toString()) ?? "?";
      const forward =
        (method: string) =>
        (...args: unknown[]) => {
          calls.push(`${method} ${name}`);
          return stub[method]!(...args);
        };
      return {
        join: forward("join"),
        lookup: forward("lookup"),
        requeue: forward("requeue"),
        countUnsyncedAhead: forward("countUnsyncedAhead"),
      };
    },
  } as unknown as DurableObjectNamespace<QueueShard>;
}

describe("a re-join never fans out to every shard", () => {
  it("in a quiet 8-shard room: the first join asks every shard, a re-join (fresh key or same key, synced or not) one", async () => {
    // Paused: ticks sync the shards but admit nobody, so the person keeps waiting at position 1.
    const room = await createRoom({ shards: 8, paused: true });
    const calls: string[] = [];
    const send = withEnv({ QUEUE_SHARD: countingShards(calls) });
    const personId = newPersonId();
    const joinVia = async (device: Device) =>
      send(`/v1/rooms/${room}/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json", dpop: await device.proof("POST", `${ORIGIN}/v1/rooms/${room}/tickets`) },
        body: JSON.stringify({ identity_assertion: await identityAssertion(personId) }),
      });
    const phone = await newDevice();
    const first = await joinVia(phone);
    expect(first.status).toBe(201);
    // The newcomer's exact position in a quiet room: its own shard joined, the seven others asked.
    expect(calls.filter((c) => c.startsWith("join "))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith("countUnsyncedAhead "))).toHaveLength(7);
    const home = calls[0]!.slice("join ".length);

    const rejoins: [string, Device][] = [
      ["fresh key, not yet synced", await newDevice()],
      ["same key, not yet synced", phone],
    ];
    for (const [label, device] of rejoins) {
      calls.length = 0;
      const again = await joinVia(device);
      expect(again.status, label).toBe(200);
      expect(calls, label).toEqual([`join ${home}`]);
      // Not counted, so not guessed: the position is unknown until the tick, and so are its polls.
      const body = (await again.json()) as { position: number | null; ticket: string };
      expect(body.position, label).toBeNull();
      expect((await poll(room, body.ticket)).body.position, label).toBeNull();
    }
    await tick(room);
    for (const [label, device] of [
      ["fresh key, synced", await newDevice()],
      ["same key, synced", phone],
    ] as const) {
      calls.length = 0;
      const again = await joinVia(device);
      expect(again.status, label).toBe(200);
      expect(calls, label).toEqual([`join ${home}`]);
      expect(((await again.json()) as { position: number }).position, label).toBe(1);
    }
  });
});

describe("real use under the default limits", () => {
  it("a phone's whole journey from one public address (join, polls, token, nonces, two credentials, notification) is never refused", async () => {
    const room = await createRoom({ shards: 2 });
    await join(room); // someone ahead, so the phone really waits and polls
    const statuses: number[] = [];
    const requests = new Map<string, number>();
    const client = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: async (url, init) => {
        const headers = new Headers(init?.headers);
        headers.set("cf-connecting-ip", "203.0.113.99");
        const res = await exports.default.fetch(url, { ...init, headers });
        statuses.push(res.status);
        const path = new URL(url).pathname.replace(`/v1/rooms/${room}/`, "/v1/rooms/:room/");
        requests.set(path, (requests.get(path) ?? 0) + 1);
        return res;
      },
      clock: () => testClock.now(),
      random: () => 0.5,
      sleep: (ms) => tick(room, ms),
    });
    await client.join(await identityAssertion(validHolder()));
    const admittedNow = await client.waitUntilAdmitted();
    const offer = admittedNow.admission.credential_offer;
    const mdl = await client.redeem(offer, { configurationId: MDOC_CONFIGURATION });
    const sd = await client.redeem(offer, { configurationId: SD_JWT_CONFIGURATION, batch: 2 });
    expect(sd.credentials).toHaveLength(2);
    await client.notify(mdl.notificationId!, "credential_accepted");
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    // What the phone asked for: the figures docs/threats/rate-limits.md sets the limits against.
    expect(Object.fromEntries([...requests].filter(([p]) => !p.startsWith("/v1/rooms/:room/tickets/current")))).toMatchObject({
      "/v1/rooms/:room/tickets": 1,
      "/token": 1,
      "/nonce": 2,
      "/credential": 2,
      "/notification": 1,
    });
    expect(requests.get("/v1/rooms/:room/tickets/current")).toBeGreaterThan(0);
  });
});

describe("configuration", () => {
  it("every scope has its variable in wrangler.toml, equal to the code's default, and its rate-limiting binding", () => {
    for (const [scope, policy] of Object.entries(DEFAULT_RATE_LIMITS) as [LimitScope, { limit: number; periodSeconds: number }][]) {
      const name = scope.toUpperCase();
      expect(env[`RATE_LIMIT_${name}` as keyof Env], scope).toBe(`${policy.limit}/${policy.periodSeconds}`);
      expect(env[`${name}_LIMITER` as keyof Env], scope).toBeDefined();
    }
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
