import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import { readListBits } from "./ledger";
import { STATUS_LIST_CWT_TYPE, STATUS_LIST_JWT_TYPE, statusListCwt, statusListJwt, type StatusListContent } from "./status-list-token";
import { statusListSigner } from "./status-signer";

/**
 * Serving Status List Tokens to every verifier without a backend read per fetch.
 *
 * At launch millions of verifiers fetch a handful of lists. Three layers, each keyed by list and format:
 * 1. this isolate's memory, for as long as the token's `ttl`;
 * 2. the location's edge cache (`caches.default`, shared by the isolates of one Cloudflare location),
 *    the response stored with `Cache-Control: public, max-age=ttl` and `Last-Modified` = the token's
 *    `iat`, so it is never served once older than `ttl` by the service's own clock either;
 * 3. a build: one IssuanceLedger read (the list's bits), a deflate and a signature.
 * So the backend sees about one read per list, format and location per `ttl`, whatever the fetch rate
 * (test/http/status-lists.test.ts counts them).
 *
 * Concurrent misses in an isolate share one build. Not by awaiting one promise from many requests: in
 * workerd a request waiting only on a promise that another request's I/O settles is cancelled as hung
 * (src/edge/snapshot-cache.ts tells how that was measured). The first miss builds; the others wait on
 * their own short timers and read the result from memory when it lands, or build themselves if the
 * builder was lost.
 */
export type StatusListFormat = "jwt" | "cwt";

export const MEDIA_TYPES: Record<StatusListFormat, string> = { jwt: STATUS_LIST_JWT_TYPE, cwt: STATUS_LIST_CWT_TYPE };

/** How long a waiter waits for another request's build before it builds itself. */
const BUILD_LOST_MS = 5_000;
const WAIT_STEP_MS = 10;
/** Bounded: list names come from requests (though only names this issuer could have made get here). */
const MAX_ENTRIES = 64;

interface Built {
  /** The token, or null: no such list (remembered like a token, so unknown lists cost no read either). */
  readonly body: Uint8Array | null;
  /** The token's `iat`, ms. */
  readonly issuedAt: number;
  readonly ttlSeconds: number;
}

const memory = new Map<string, Built>();
const building = new Map<string, number>();
let backendReads = 0;

/** Status list reads this isolate has made from the IssuanceLedger objects (tests and metrics). */
export function statusListBackendReads(): number {
  return backendReads;
}

/** Forget this isolate's copies (tests that restart objects, or that want the next fetch to rebuild). */
export function clearStatusListMemory(): void {
  memory.clear();
  building.clear();
}

/** The edge cache key of a list's token in one format: the list's uri, with the format as a query. */
function cacheKey(uri: string, format: StatusListFormat): Request {
  return new Request(`${uri}?format=${format}`);
}

const isFresh = (b: Built, now: number) => now < b.issuedAt + b.ttlSeconds * 1000;

/**
 * The list's token in `format`, as a response. `uri` is the list's public uri (the token's `sub`),
 * `list` its name; `now` the service clock (ms). 404 for a list that does not exist.
 */
export async function statusListResponse(env: Env, list: string, uri: string, format: StatusListFormat, now: number): Promise<Response> {
  const key = `${list}/${format}`;
  const started = Date.now();
  for (;;) {
    const inMemory = memory.get(key);
    if (inMemory && isFresh(inMemory, now)) return respond(inMemory, format);
    const edge = await fromEdgeCache(uri, format, now);
    if (edge) {
      remember(key, edge);
      return respond(edge, format);
    }
    const since = building.get(key);
    if (since === undefined || Date.now() - since > BUILD_LOST_MS || Date.now() - started > BUILD_LOST_MS) {
      building.set(key, Date.now());
      try {
        const built = await build(env, list, uri, format, now);
        await putEdgeCache(uri, format, built);
        remember(key, built);
        return respond(built, format);
      } finally {
        building.delete(key);
      }
    }
    await sleep(WAIT_STEP_MS);
  }
}

async function build(env: Env, list: string, uri: string, format: StatusListFormat, now: number): Promise<Built> {
  const ttlSeconds = settingsOf(env).statusListTtlSeconds;
  // The signer first: an expired certificate refuses before the backend is read.
  const signer = await statusListSigner(env, now);
  backendReads++;
  const bits = await readListBits(env, list);
  const issuedAt = Math.floor(now / 1000);
  if (!bits) return { body: null, issuedAt: issuedAt * 1000, ttlSeconds };
  const content: StatusListContent = { uri, bits, issuedAt, ttlSeconds };
  const body = format === "jwt" ? new TextEncoder().encode(await statusListJwt(content, signer)) : await statusListCwt(content, signer);
  return { body, issuedAt: issuedAt * 1000, ttlSeconds };
}

function respond(built: Built, format: StatusListFormat): Response {
  if (!built.body)
    throw new ApiError("not_found", "no such status list", { headers: { "cache-control": `public, max-age=${built.ttlSeconds}` } });
  return new Response(built.body, { headers: headersOf(built, format) });
}

function headersOf(built: Built, format: StatusListFormat): Record<string, string> {
  return {
    "content-type": MEDIA_TYPES[format],
    "cache-control": `public, max-age=${built.ttlSeconds}`,
    "last-modified": new Date(built.issuedAt).toUTCString(),
    vary: "accept",
    // Verifiers in browsers (web wallets, relying party pages) fetch lists too; nothing here is private.
    "access-control-allow-origin": "*",
  };
}

async function fromEdgeCache(uri: string, format: StatusListFormat, now: number): Promise<Built | null> {
  const hit = await caches.default.match(cacheKey(uri, format));
  if (!hit) return null;
  const issuedAt = Date.parse(hit.headers.get("last-modified") ?? "");
  const ttlSeconds = Number(/max-age=(\d+)/.exec(hit.headers.get("cache-control") ?? "")?.[1]);
  if (!Number.isFinite(issuedAt) || !Number.isFinite(ttlSeconds)) return null;
  const built = { body: hit.status === 200 ? new Uint8Array(await hit.arrayBuffer()) : null, issuedAt, ttlSeconds };
  return isFresh(built, now) ? built : null;
}

async function putEdgeCache(uri: string, format: StatusListFormat, built: Built): Promise<void> {
  const headers = headersOf(built, format);
  await caches.default.put(cacheKey(uri, format), new Response(built.body, { status: built.body ? 200 : 404, headers }));
}

/** workerd's scheduler.wait where it exists: a timer of the waiting request's own. */
function sleep(ms: number): Promise<void> {
  const s = (globalThis as { scheduler?: { wait?: (ms: number) => Promise<void> } }).scheduler;
  if (typeof s?.wait === "function") return s.wait(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function remember(key: string, built: Built): void {
  if (memory.size >= MAX_ENTRIES && !memory.has(key)) memory.delete(memory.keys().next().value!);
  memory.set(key, built);
}
