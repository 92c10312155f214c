import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintSession } from "../../src/http/admin-session";
import { ADMIN_TOKEN, createRoom, join, testClock } from "../helpers/api";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { contentType, headerValue, jsonBodyText, jsonValueText, objectText, type RawBody } from "./support/hostile";
import { printTally, probe, Watcher, type Spec } from "./support/probe";
import { authorization, body as anyBody, query, roomSegment } from "./support/requests";
import { ANYWHERE } from "./support/routes";
import { roomExists, type RoomRef } from "./support/state";

/**
 * The admin API (and the development fault switch, which sits behind the same guard): without the
 * token, with forged or CSRF-less dashboard sessions, and with the token but hostile settings.
 */
let room: RoomRef;
let joined: RoomRef;

beforeAll(async () => {
  captureLogs();
  room = { name: await createRoom({ shards: 2 }), shards: 2 };
  joined = { name: await createRoom({ shards: 2 }), shards: 2 };
  expect((await join(joined.name)).status).toBe(201);
  console.log(`admin properties: fast-check seed ${SEED}`);
});
afterAll(() => {
  printTally("admin answers");
  releaseLogs();
});

const GUARDED: readonly { method: string; path: (room: string) => string }[] = [
  { method: "PUT", path: (r) => `/v1/admin/rooms/${r}` },
  { method: "GET", path: (r) => `/v1/admin/rooms/${r}` },
  { method: "POST", path: (r) => `/v1/admin/rooms/${r}/lottery/reveal` },
  { method: "PUT", path: () => "/v1/admin/register" },
  { method: "GET", path: () => "/v1/admin/register" },
  { method: "GET", path: () => "/v1/admin/metrics" },
  { method: "GET", path: () => "/v1/dev/faults" },
  { method: "PUT", path: () => "/v1/dev/faults" },
  { method: "DELETE", path: () => "/v1/dev/faults" },
];

/** Session cookie values that must not open anything: random, the right shape with a bad MAC, expired. */
const forgedSession = fc.oneof(
  headerValue.map((v) => v.replace(/[;,\s]/g, "")),
  fc
    .tuple(
      fc.nat({ max: 2e9 }),
      fc.nat({ max: 2e9 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
    )
    .map(
      ([iat, exp, nonce, mac]) =>
        `v1.${iat}.${exp}.${btoa(String.fromCharCode(...nonce))
          .replace(/\+/g, "-")
          .replace(/\//g, "_")}.${btoa(String.fromCharCode(...mac))
          .replace(/\+/g, "-")
          .replace(/\//g, "_")
          .replace(/=+$/, "")}`,
    ),
  fc.constant("expired"),
);

interface GuardCase {
  target: number;
  room: string;
  auth: string | null;
  cookie: string | null;
  body: RawBody;
  contentType: string | null;
  query: string;
}

describe("without the admin token", () => {
  it("every guarded endpoint answers 401 problem+json, creates no room and changes nothing", async () => {
    const watcher = new Watcher([room, joined]);
    const expired = await mintSession(ADMIN_TOKEN, testClock.now() - 13 * 3600_000, testClock.now() - 13 * 3600_000);
    const arb = fc.record({
      target: fc.nat({ max: GUARDED.length - 1 }),
      room: fc.oneof(fc.constantFrom(room.name, joined.name), roomSegment([])),
      auth: fc.option(authorization, { nil: null }),
      cookie: fc.option(forgedSession, { nil: null }),
      body: anyBody,
      contentType: fc.option(contentType, { nil: null }),
      query,
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c: GuardCase) => {
        const target = GUARDED[c.target]!;
        const headers: [string, string][] = [];
        if (c.auth !== null) headers.push(["authorization", c.auth]);
        if (c.cookie !== null) headers.push(["cookie", `antichambre_admin=${c.cookie === "expired" ? expired : c.cookie}`]);
        if (c.contentType !== null) headers.push(["content-type", c.contentType]);
        const spec: Spec = { method: target.method, path: `${target.path(c.room)}${c.query}`, headers, body: c.body };
        const answer = await watcher.send(spec, { allowed: [401, ...ANYWHERE] });
        if (answer.status === 401) {
          expect(answer.problem?.type).toBe("urn:antichambre:problem:unauthorized");
          expect(answer.headers.get("www-authenticate")).toContain("Bearer");
        }
        // "permis" is a default room: it exists before anyone asks.
        if (target.method === "PUT" && /^[a-z0-9][a-z0-9-]{0,39}$/.test(c.room) && ![room.name, joined.name, "permis"].includes(c.room)) {
          expect(await roomExists(c.room)).toBe(false);
        }
      }),
      params(RUNS.adminUnauthenticated),
    );
  });

  it("a valid dashboard session without the CSRF header (or cross-site) changes nothing: 403", async () => {
    const watcher = new Watcher([room, joined]);
    const session = await mintSession(ADMIN_TOKEN, testClock.now(), testClock.now());
    const mutating = GUARDED.filter((g) => g.method !== "GET");
    const arb = fc.record({
      target: fc.nat({ max: mutating.length - 1 }),
      csrf: fc.option(
        headerValue.filter((v) => v.trim() !== "1"),
        { nil: null },
      ),
      origin: fc.option(fc.constantFrom("https://evil.example", "null", "http://antichambre.test.evil.example"), { nil: null }),
      site: fc.option(fc.constantFrom("cross-site", "same-site", "none"), { nil: null }),
      body: fc.constantFrom('{"paused":true}', '{"simulated_latency_ms":5000}', '{"faults":{"shard.join":{"mode":"throw"}}}'),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const target = mutating[c.target]!;
        const headers: [string, string][] = [
          ["cookie", `antichambre_admin=${session}`],
          ["content-type", "application/json"],
        ];
        if (c.csrf !== null) headers.push(["x-antichambre-admin", c.csrf]);
        // With the header right, the request must still be refused as cross-origin.
        else if (c.origin !== null || c.site !== null) headers.push(["x-antichambre-admin", "1"]);
        if (c.origin !== null) headers.push(["origin", c.origin]);
        if (c.site !== null) headers.push(["sec-fetch-site", c.site]);
        const answer = await watcher.send(
          { method: target.method, path: target.path(room.name), headers, body: c.body },
          { allowed: [403, 404] },
        );
        if (answer.status === 403) expect(answer.problem?.type).toBe("urn:antichambre:problem:forbidden");
      }),
      params(40),
    );
  });
});

const SETTING_VALUES = {
  new_users_per_minute: ["0", "1e309", "-0", "1.5", '"60"', "1000001", "-1", "null", "9007199254740993"],
  total_active_users: ["0", "10000001", "1e-400"],
  shards: ["0", "65", "2.0", "3", '"2"'],
  queueing_method: ['"FIFO"', '"vip-first"', '""', '"random"', "null"],
  paused: ['"yes"', "1", "null", "true", "false"],
  admission_ttl_seconds: ["9", "3601", "60"],
  session_duration_seconds: ["59", "86401"],
  random_window_seconds: ["0", "3601"],
  event: [
    "null",
    '{"prequeue_start":"2026-12-01T09:00:00Z","event_start":"2026-12-01T08:00:00Z"}',
    '{"prequeue_start":"9999-12-31T23:59:59Z","event_start":"9999-12-31T23:59:59.999Z"}',
    '{"prequeue_start":"0000-01-01T00:00:00Z","event_start":"0000-01-01T00:00:01+23:59"}',
    '{"prequeue_start":"2026-13-01T00:00:00Z","event_start":"2026-12-01T08:00:00Z"}',
    '{"prequeue_start":"2026-12-01T08:00:00Z","event_start":"2026-12-01T09:00:00Z","event_end":"2026-12-01T08:30:00Z"}',
  ],
  outflow: [
    '{"mode":"adaptive","floor_per_minute":100,"ceiling_per_minute":10}',
    '{"max_error_rate":1.5}',
    '{"mode":"chaos"}',
    "{}",
    '{"latency_target_ms":0}',
  ],
  pow_min_bits: ["-1", "33", "1e309", "8"],
};

describe("with the admin token, hostile settings", () => {
  it("PUT /v1/admin/rooms/{room}: a room, or a 400/404/409/415/422 that changes nothing", async () => {
    const watcher = new Watcher([room, joined]);
    const entry = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .constantFrom(...Object.keys(SETTING_VALUES))
          .chain((k) =>
            fc.tuple(
              fc.constant(k),
              fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SETTING_VALUES[k as keyof typeof SETTING_VALUES]) }, jsonValueText),
            ),
          ),
      },
      fc.tuple(fc.constantFrom("__proto__", "constructor", "surprise", "config"), jsonValueText),
    );
    const arb = fc.record({
      room: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(room.name, joined.name) }, roomSegment([])),
      body: fc.oneof(
        { weight: 4, arbitrary: fc.array(entry, { maxLength: 3 }).map(objectText) },
        jsonBodyText(Object.keys(SETTING_VALUES)),
      ),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, contentType),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const spec: Spec = {
          method: "PUT",
          path: `/v1/admin/rooms/${c.room}`,
          headers: [
            ["authorization", `Bearer ${ADMIN_TOKEN}`],
            ["content-type", c.contentType],
          ],
          body: c.body,
        };
        const answer = await watcher.send(spec, { allowed: [200, 201, 400, 404, 409, 415, 422, ...ANYWHERE] });
        if (answer.status === 201) watcher.forget();
        // By hand: JSON that does not parse is 400, a body under any other content type is 415.
        if (answer.status !== 404 && !oversized(answer.status)) {
          if (!/^application\/json\s*(;|$)/i.test(c.contentType) && c.body.length > 0) expect(answer.status).toBe(415);
          else if (!isJson(c.body)) expect(answer.status).toBe(400);
        }
      }),
      params(RUNS.adminAuthenticated),
    );
  });

  it("the lottery reveal, the register drill, room statistics and the metrics scrape keep the contract too", async () => {
    const auth: [string, string] = ["authorization", `Bearer ${ADMIN_TOKEN}`];
    const arb = fc.oneof(
      fc.record({ kind: fc.constant("reveal" as const), room: fc.oneof(fc.constantFrom(room.name, joined.name), roomSegment([])) }),
      fc.record({ kind: fc.constant("stats" as const), room: fc.oneof(fc.constantFrom(room.name), roomSegment([])) }),
      fc.record({
        kind: fc.constant("drill" as const),
        body: fc.oneof(
          jsonBodyText(["simulated_latency_ms"]),
          fc.constantFrom(
            '{"simulated_latency_ms":1e309}',
            '{"simulated_latency_ms":-1}',
            '{"simulated_latency_ms":10001}',
            '{"simulated_latency_ms":"5"}',
          ),
        ),
      }),
      fc.record({ kind: fc.constant("metrics" as const), query }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        if (c.kind === "reveal")
          await probe(
            { method: "POST", path: `/v1/admin/rooms/${c.room}/lottery/reveal`, headers: [auth], body: null },
            { allowed: [200, 404, 409, ...ANYWHERE] },
          );
        if (c.kind === "stats")
          await probe(
            { method: "GET", path: `/v1/admin/rooms/${c.room}`, headers: [auth], body: null },
            { allowed: [200, 404, ...ANYWHERE] },
          );
        if (c.kind === "metrics")
          await probe(
            { method: "GET", path: `/v1/admin/metrics${c.query}`, headers: [auth], body: null },
            { allowed: [200, 400, ...ANYWHERE] },
          );
        if (c.kind === "drill") {
          const answer = await probe(
            { method: "PUT", path: "/v1/admin/register", headers: [auth, ["content-type", "application/json"]], body: c.body },
            { allowed: [200, 400, 422, ...ANYWHERE] },
          );
          // A drill that took: put the register's latency back for everything after.
          if (answer.status === 200)
            await probe(
              {
                method: "PUT",
                path: "/v1/admin/register",
                headers: [auth, ["content-type", "application/json"]],
                body: '{"simulated_latency_ms":null}',
              },
              { allowed: [200] },
            );
        }
      }),
      params(RUNS.adminMetrics),
    );
  });
});

/** Whether the Worker reads `text` as JSON: its body is decoded as UTF-8, which drops a leading BOM. */
function isJson(text: RawBody): boolean {
  if (text === null) return true;
  try {
    JSON.parse(new TextDecoder().decode(typeof text === "string" ? new TextEncoder().encode(text) : text));
    return true;
  } catch {
    return false;
  }
}
