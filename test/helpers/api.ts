import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, expect } from "vitest";
import { clearSnapshotCache } from "../../src/edge/snapshot-cache";
import { coordinatorOf } from "../../src/edge/objects";
import { ManualClock, useClock } from "../../src/lib/clock";
import type { Env } from "../../src/config/env";
import type { RoomConfigPatch } from "../../src/config/room-config";
import { createDevApp } from "../../src/dev/kit";
import { newDevice, type Device, type DpopOptions } from "./device";
import { expectConforms } from "./openapi-check";

/**
 * Driving the Worker the way the mobile app and operators do: over HTTP, into the real Worker and
 * Durable Objects in workerd. Time is a manual clock shared by tests, Worker and Durable Objects (one
 * isolate); admission ticks are run explicitly through the coordinator's alarm.
 */
export const ORIGIN = "http://antichambre.test";
export const ADMIN_TOKEN = "dev-admin-token";

// Inside the validity of the development Document Signer certificate (src/config/dev-credentials.ts).
export const testClock = new ManualClock(Date.UTC(2026, 11, 1, 8, 0, 0));
useClock(testClock);

let checkingOpenApi = false;

/**
 * Opt-in, per test file (call in beforeAll): every answer `call` and `join` get must then match the
 * served OpenAPI document for its route and status (test/helpers/openapi-check.ts), or the request fails.
 */
export function checkAnswersAgainstOpenApi(on = true): void {
  checkingOpenApi = on;
}

/** The same, for the whole of the calling test file (registers its beforeAll and afterAll). */
export function checkAnswersAgainstOpenApiInThisFile(): void {
  beforeAll(() => checkAnswersAgainstOpenApi());
  afterAll(() => checkAnswersAgainstOpenApi(false));
}

async function checked(method: string, url: string, res: Response): Promise<Response> {
  if (checkingOpenApi) await expectConforms(method, url, res);
  return res;
}

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const url = `${ORIGIN}${path}`;
  return checked(init.method ?? "GET", url, await exports.default.fetch(url, init));
}

let roomCounter = 0;

/** A fresh room per test, so tests never see each other's queues. */
export async function createRoom(config: RoomConfigPatch = {}): Promise<string> {
  const room = `t${Date.now().toString(36)}-${roomCounter++}`;
  const res = await adminPut(room, { new_users_per_minute: 60, shards: 4, ...config });
  expect(res.status).toBe(201);
  return room;
}

export function adminPut(room: string, body: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  return call(`/v1/admin/rooms/${room}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

export async function adminGet(room: string): Promise<Record<string, any>> {
  const res = await call(`/v1/admin/rooms/${room}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.json();
}

export interface Joined {
  device: Device;
  status: number;
  body: Record<string, any>;
  ticket: string;
  headers: Headers;
  personId: string;
}

let personCounter = 0;

/** A demo person id no other test uses (the seeded register holds FR-000001 … FR-010000). */
export function newPersonId(): string {
  return `FR-T${Date.now().toString(36)}${personCounter++}`;
}

/** An identity assertion from the development identity service, over HTTP. */
export async function identityAssertion(personId: string): Promise<string> {
  const res = await call("/v1/dev/identity-assertions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ person_id: personId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { identity_assertion: string }).identity_assertion;
}

export interface JoinOptions {
  device?: Device;
  /** Who joins: a fresh person unless given. */
  personId?: string;
  proof?: DpopOptions;
  /** Replaces the whole request init (body and headers), for malformed-request tests. */
  init?: RequestInit;
}

export async function join(room: string, options: JoinOptions = {}): Promise<Joined> {
  const d = options.device ?? (await newDevice());
  const personId = options.personId ?? newPersonId();
  const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
  const init = options.init ?? {
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity_assertion: await identityAssertion(personId) }),
  };
  const res = await checked(
    "POST",
    url,
    await exports.default.fetch(url, {
      method: "POST",
      ...init,
      headers: { dpop: await d.proof("POST", url, options.proof ?? {}), ...(init.headers ?? {}) },
    }),
  );
  const body = (await res.json()) as Record<string, any>;
  return { device: d, personId, status: res.status, body, ticket: body.ticket, headers: res.headers };
}

export async function poll(room: string, ticket: string): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const res = await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${ticket}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any>, res };
}

/** Move time on, run one admission tick, and let the edge see its result at once. */
export async function tick(room: string, advanceMs = 1_000): Promise<void> {
  testClock.advance(advanceMs);
  expect(await runDurableObjectAlarm(coordinatorOf(env, room))).toBe(true);
  clearSnapshotCache();
}

export async function expectProblem(res: Response, status: number, kind?: string): Promise<Record<string, any>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, any>;
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  if (kind) expect(body.type).toBe(`urn:antichambre:problem:${kind}`);
  return body;
}

export { newDevice };

export type Send = (path: string, init?: RequestInit) => Promise<Response>;

const devApp = createDevApp();

/**
 * The development app (src/dev/kit.ts) called with `overrides` on top of the tests' env, over the same
 * Durable Objects: what a deployment's variables (a tightened limit, a rotated key list) do, request by
 * request.
 */
export function withEnv(overrides: Partial<Env>): Send {
  return async (path, init = {}) => devApp.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...overrides }, createExecutionContext());
}
