import { env, exports } from "cloudflare:workers";
import { calculateJwkThumbprint, decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AntichambreClient, DeviceKey, type RetryInfo } from "../../client";
import { withDevSecrets } from "../../src/dev/secrets";
import { BINDING_DEADLINE_MS, clientAddressKey } from "../../src/edge/rate-limits";
import { withLoggedEvents } from "../helpers/logs";
import {
  withEnv,
  type Send,
  ORIGIN,
  createRoom,
  expectProblem,
  identityAssertion,
  join,
  newDevice,
  newPersonId,
  testClock,
  type Joined,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";
import type { Device } from "../helpers/device";

/**
 * Per-client rate limits at the edge (src/edge/rate-limits.ts): polls per ticket, joins per device key,
 * joins and challenges per client address, answered 429 problem+json with Retry-After.
 *
 * The in-isolate layer runs on the tests' manual clock, so most tests tighten a limit through the
 * Worker's variables (the app called with an env override) and move time to watch it refill. The
 * Workers rate-limiting binding layer is Miniflare's simulation (real time, fixed windows, wrangler.toml's
 * generous limits): its test fills a key's window straight through the binding, then asks over HTTP.
 */

async function joinVia(
  send: Send,
  room: string,
  options: { device?: Device; headers?: Record<string, string> } = {},
): Promise<{ res: Response; device: Device }> {
  const device = options.device ?? (await newDevice());
  const path = `/v1/rooms/${room}/tickets`;
  const res = await send(path, {
    method: "POST",
    headers: { "content-type": "application/json", dpop: await device.proof("POST", `${ORIGIN}${path}`), ...options.headers },
    body: JSON.stringify({ identity_assertion: await identityAssertion(newPersonId()) }),
  });
  return { res, device };
}

const pollVia = (send: Send, room: string, ticket: string) =>
  send(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${ticket}` } });

async function expectRateLimited(res: Response, scope: string, retryAfter: number): Promise<void> {
  const body = await expectProblem(res, 429, "rate-limited");
  expect(body.reason).toBe(scope);
  expect(res.headers.get("retry-after")).toBe(String(retryAfter));
  expect(body.retry_after_seconds).toBe(retryAfter);
}

afterEach(() => vi.restoreAllMocks());

describe("polls are limited per ticket", () => {
  it("answer 429 + Retry-After past the limit, per place in line, and recover as the bucket refills", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const send = withEnv({ RATE_LIMIT_POLL: "3/60" });
    const a = await join(room);
    const b = await join(room);
    for (let i = 0; i < 3; i++) expect((await pollVia(send, room, a.ticket)).status).toBe(200);
    await expectRateLimited(await pollVia(send, room, a.ticket), "poll", 20);
    // Another person's ticket has its own budget.
    expect((await pollVia(send, room, b.ticket)).status).toBe(200);
    // One token every 20 s.
    testClock.advance(20_000);
    expect((await pollVia(send, room, a.ticket)).status).toBe(200);
    await expectRateLimited(await pollVia(send, room, a.ticket), "poll", 20);
  });

  it("count only verified tickets: forgeries naming someone's ticket id cannot use up their budget", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const send = withEnv({ RATE_LIMIT_POLL: "2/60" });
    const victim = await join(room);
    const [h, p] = victim.ticket.split(".");
    for (let i = 0; i < 10; i++) await expectProblem(await pollVia(send, room, `${h}.${p}.forged${i}`), 401, "invalid-ticket");
    expect((await pollVia(send, room, victim.ticket)).status).toBe(200);
    expect((await pollVia(send, room, victim.ticket)).status).toBe(200);
  });

  it("never touch a phone polling as told (poll_after_seconds) under the default limit", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    // The in-isolate layer alone: the binding counts real seconds, and these ten minutes take a few.
    const send = withEnv({ POLL_LIMITER: undefined });
    const a = await join(room);
    // Ten minutes of polls at the shortest interval the service ever asks for (2 s − 20 % jitter).
    for (let s = 0; s < 600; s += 1.6) {
      expect((await pollVia(send, room, a.ticket)).status).toBe(200);
      testClock.advance(1_600);
    }
  });
});

describe("joins are limited per device key and per client address", () => {
  it("one device key: past the limit, 429 whoever it joins for; another key is not affected", async () => {
    const room = await createRoom({ shards: 2 });
    const send = withEnv({ RATE_LIMIT_JOIN_DEVICE: "2/60" });
    const spinner = await newDevice();
    expect((await joinVia(send, room, { device: spinner })).res.status).toBe(201);
    expect((await joinVia(send, room, { device: spinner })).res.status).toBe(201);
    await expectRateLimited((await joinVia(send, room, { device: spinner })).res, "join_device", 30);
    expect((await joinVia(send, room)).res.status).toBe(201);
  });

  it("one client address (IPv4, or an IPv6 /64): fresh keys do not help; other addresses and local ones are not affected", async () => {
    const room = await createRoom({ shards: 2 });
    const send = withEnv({ RATE_LIMIT_JOIN_CLIENT: "2/60" });
    const from = (ip: string) => ({ headers: { "cf-connecting-ip": ip } });
    expect((await joinVia(send, room, from("2001:db8:77:1::a"))).res.status).toBe(201);
    expect((await joinVia(send, room, from("2001:db8:77:1::b"))).res.status).toBe(201);
    await expectRateLimited((await joinVia(send, room, from("2001:db8:77:1:ffff::1"))).res, "join_client", 30);
    // Refused before the body is even read: a flood of garbage costs the service nothing more.
    const garbage = await send(`/v1/rooms/${room}/tickets`, {
      method: "POST",
      headers: { "cf-connecting-ip": "2001:db8:77:1::c" },
      body: "not json",
    });
    await expectRateLimited(garbage, "join_client", 30);
    expect((await joinVia(send, room, from("2001:db8:77:2::a"))).res.status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await joinVia(send, room, from("127.0.0.1"))).res.status).toBe(201);
    // Challenges are counted apart from joins, under the same limit.
    const challenge = () =>
      send(`/v1/rooms/${room}/challenge`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "2001:db8:77:1::d" },
        body: JSON.stringify({ jkt: "A".repeat(43) }),
      });
    expect((await challenge()).status).toBe(200);
    expect((await challenge()).status).toBe(200);
    await expectRateLimited(await challenge(), "join_client", 30);
  });

  it("a limit set to 'off' is not enforced", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const send = withEnv({ RATE_LIMIT_POLL: "off" });
    const a = await join(room);
    for (let i = 0; i < 150; i++) expect((await pollVia(send, room, a.ticket)).status).toBe(200);
  });

  it("log no client address, and key buckets by a keyed hash of it", async () => {
    const room = await createRoom({ shards: 1 });
    const send = withEnv({ RATE_LIMIT_JOIN_CLIENT: "1/60", LOG_REQUESTS: "all" });
    const lines: unknown[][] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args));
    const ip = "198.51.100.61";
    await joinVia(send, room, { headers: { "cf-connecting-ip": ip } });
    await expectRateLimited((await joinVia(send, room, { headers: { "cf-connecting-ip": ip } })).res, "join_client", 60);
    vi.restoreAllMocks();
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain("198.51.100");
    const key = await clientAddressKey(withDevSecrets(env), new Request(ORIGIN, { headers: { "cf-connecting-ip": ip } }));
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key).not.toContain("198");
  });
});

describe("the Workers rate-limiting binding (Miniflare's local simulation)", () => {
  /** Runs `attempt` until it happens inside one fixed window of the binding (60 s, real time). */
  async function inOneWindow(attempt: () => Promise<void>): Promise<void> {
    for (let tries = 0; ; tries++) {
      const window = Math.floor(Date.now() / 60_000);
      try {
        await attempt();
        return;
      } catch (e) {
        if (Math.floor(Date.now() / 60_000) === window || tries > 1) throw e;
      }
    }
  }

  async function fill(binding: RateLimit, key: string): Promise<void> {
    for (let i = 0; i < 1_000; i++) if (!(await binding.limit({ key })).success) return;
    throw new Error("the binding never refused");
  }

  it("is bound in tests and enforced on polls, device keys and client addresses", async () => {
    expect(env.POLL_LIMITER).toBeDefined();
    expect(env.JOIN_DEVICE_LIMITER).toBeDefined();
    expect(env.JOIN_CLIENT_LIMITER).toBeDefined();
    const room = await createRoom({ shards: 1, paused: true });
    const joined: Joined = await join(room);
    await inOneWindow(async () => {
      await fill(env.POLL_LIMITER!, `${room}/${String(decodeJwt(joined.ticket).sub)}`);
      await expectRateLimited(
        await exports.default.fetch(`${ORIGIN}/v1/rooms/${room}/tickets/current`, {
          headers: { authorization: `Bearer ${joined.ticket}` },
        }),
        "poll",
        60,
      );
    });
    await inOneWindow(async () => {
      const device = await newDevice();
      await fill(env.JOIN_DEVICE_LIMITER!, await calculateJwkThumbprint(device.publicJwk, "sha256"));
      await expectRateLimited(
        (await joinVia((p, i) => exports.default.fetch(`${ORIGIN}${p}`, i), room, { device })).res,
        "join_device",
        60,
      );
    });
    await inOneWindow(async () => {
      const ip = "203.0.113.201";
      await fill(
        env.JOIN_CLIENT_LIMITER!,
        `join:${await clientAddressKey(withDevSecrets(env), new Request(ORIGIN, { headers: { "cf-connecting-ip": ip } }))}`,
      );
      await expectRateLimited(
        (await joinVia((p, i) => exports.default.fetch(`${ORIGIN}${p}`, i), room, { headers: { "cf-connecting-ip": ip } })).res,
        "join_client",
        60,
      );
    });
  });
});

describe("a rate-limiting binding that fails", () => {
  it("lets the request through (the in-isolate layer still counts it), whether it throws or hangs", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const a = await join(room);
    const { logged: failures } = await withLoggedEvents("rate_limit_binding_failed", async () => {
      const hanging = { limit: () => new Promise<{ success: boolean }>(() => {}) } as unknown as RateLimit;
      const throwing = { limit: async () => Promise.reject(new Error("limiter unreachable")) } as unknown as RateLimit;
      expect((await pollVia(withEnv({ POLL_LIMITER: hanging, RATE_LIMIT_POLL: "3/60" }), room, a.ticket)).status).toBe(200);
      expect((await pollVia(withEnv({ POLL_LIMITER: throwing, RATE_LIMIT_POLL: "3/60" }), room, a.ticket)).status).toBe(200);
      // The in-isolate bucket keeps counting while the binding is out: its third token, then a refusal.
      expect((await pollVia(withEnv({ POLL_LIMITER: throwing, RATE_LIMIT_POLL: "3/60" }), room, a.ticket)).status).toBe(200);
      await expectRateLimited(await pollVia(withEnv({ POLL_LIMITER: throwing, RATE_LIMIT_POLL: "3/60" }), room, a.ticket), "poll", 20);
    });
    expect(failures.map((l) => l.error)).toEqual([
      `POLL_LIMITER did not answer within ${BINDING_DEADLINE_MS} ms`,
      "limiter unreachable",
      "limiter unreachable",
    ]);
  });
});

describe("the client SDK", () => {
  it("backs off on 429, never sooner than Retry-After, and gets through once the limit allows", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const send = withEnv({ RATE_LIMIT_POLL: "1/60" });
    const sleeps: number[] = [];
    const retries: RetryInfo[] = [];
    const client = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: (url, init) => send(new URL(url).pathname, init),
      clock: () => testClock.now(),
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        testClock.advance(ms);
      },
      onRetry: (info) => retries.push(info),
    });
    await client.join(await identityAssertion(newPersonId()));
    expect((await client.status()).status).toBe("waiting");
    // The second poll inside the minute is refused; the SDK waits and tries again.
    expect((await client.status()).status).toBe("waiting");
    expect(retries).toHaveLength(1);
    expect(retries[0]!.error.status).toBe(429);
    expect(retries[0]!.error.retryAfterSeconds).toBe(60);
    expect(retries[0]!.error.kind).toBe("rate-limited");
    expect(sleeps[0]).toBeGreaterThanOrEqual(60_000);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
