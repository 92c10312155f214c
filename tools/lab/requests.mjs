// @ts-check
// What the tools' virtual devices send, measured: every request is timed to its last byte and counted by
// endpoint and status, and a semaphore bounds how many are in flight (the devices' shared "connection
// pool"). The recorder's fetch is handed to the SDK, so the SDK's own retries are measured too.

/** FIFO counting semaphore: requests get a slot in the order they asked. */
export class Semaphore {
  /** @param {number} size */
  constructor(size) {
    this.free = size;
    /** @type {Array<() => void>} */
    this.queue = [];
  }
  /** @returns {Promise<void>} */
  acquire() {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }
  release() {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Endpoint label of a request: the path with the room and ids generalised.
 * @param {string} method
 * @param {string | URL} url
 */
export function endpointOf(method, url) {
  const path = new URL(url).pathname
    .replace(/^\/v1\/rooms\/[^/]+\/tickets\/current$/, "/v1/rooms/:room/tickets/current")
    .replace(/^\/v1\/rooms\/[^/]+\/tickets$/, "/v1/rooms/:room/tickets")
    .replace(/^\/v1\/rooms\/[^/]+\/challenge$/, "/v1/rooms/:room/challenge")
    .replace(/^\/v1\/admin\/rooms\/[^/]+$/, "/v1/admin/rooms/:room")
    .replace(/^\/v1\/rooms\/[^/]+$/, "/v1/rooms/:room")
    // The test identity provider's per-interaction paths (test/support/oidc-provider.mjs).
    .replace(/^\/interaction\/[^/]+/, "/interaction/:uid")
    .replace(/^\/auth\/[^/]+$/, "/auth/:uid");
  return `${method} ${path}`;
}

/**
 * Adds `n` to a counter kept in a Map.
 * @template K
 * @param {Map<K, number>} map
 * @param {K} key
 */
export function count(map, key, n = 1) {
  map.set(key, (map.get(key) ?? 0) + n);
}

/**
 * A recorder: `recorder.fetch(semaphore, ungated?)` is a fetch for the SDK; the fields hold what it saw.
 * `bare5xx` counts 5xx answers that are not our problem+json (a 500, or something in front of the
 * Worker answering): the service's only deliberate 5xx is a problem+json 503 with Retry-After.
 */
export function createRecorder({ timeoutMs = 30_000 } = {}) {
  const recorder = {
    started: performance.now(),
    requests: 0,
    /** endpoint → { latencies: ms[], statuses: {status: n} } */
    endpoints: /** @type {Map<string, { latencies: number[], statuses: Record<string, number> }>} */ (new Map()),
    /** "503 temporarily-unavailable @ POST /credential" → n */
    failures: /** @type {Map<string, number>} */ (new Map()),
    networkErrors: 0,
    retries: /** @type {Map<string, number>} */ (new Map()),
    bare5xx: 0,
    /** The first few of them, whole enough to tell where they came from. */
    bare5xxSamples: /** @type {Array<{ endpoint: string, status: number, content_type: string | null, body: string }>} */ ([]),
    /** 503s without a Retry-After header. */
    unhinted503: 0,
    /**
     * @param {Semaphore | null | undefined} semaphore
     * @param {(endpoint: string) => boolean} [ungated]
     * @returns {(url: string | URL, init?: RequestInit) => Promise<Response>}
     */
    fetch(semaphore, ungated = () => false) {
      return async (url, init = {}) => {
        const method = (init.method ?? "GET").toUpperCase();
        const endpoint = endpointOf(method, url);
        const gated = semaphore && !ungated(endpoint) ? semaphore : null;
        if (gated) await gated.acquire();
        const t0 = performance.now();
        try {
          const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
          let res;
          let body;
          try {
            res = await fetch(url, { ...init, signal });
            body = await res.arrayBuffer();
          } catch (e) {
            recorder.networkErrors++;
            count(recorder.failures, `network @ ${endpoint}`);
            throw e;
          }
          recorder.record(endpoint, res, body, performance.now() - t0);
          return new Response(res.status === 204 || res.status === 304 ? null : body, {
            status: res.status,
            statusText: res.statusText,
            headers: res.headers,
          });
        } finally {
          if (gated) gated.release();
        }
      };
    },
    /**
     * @param {string} endpoint
     * @param {Response} res
     * @param {ArrayBuffer} body
     * @param {number} ms
     */
    record(endpoint, res, body, ms) {
      recorder.requests++;
      let s = recorder.endpoints.get(endpoint);
      if (!s) recorder.endpoints.set(endpoint, (s = { latencies: [], statuses: {} }));
      s.latencies.push(ms);
      s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
      if (res.status < 400) return;
      let kind = "";
      try {
        const problem = JSON.parse(new TextDecoder().decode(body));
        kind = problem.error ?? String(problem.type ?? "").replace("urn:antichambre:problem:", "");
      } catch {
        // Not JSON: the status alone.
      }
      count(recorder.failures, `${res.status}${kind ? ` ${kind}` : ""} @ ${endpoint}`);
      const problemJson = (res.headers.get("content-type") ?? "").startsWith("application/problem+json");
      if (res.status >= 500 && (res.status !== 503 || !problemJson)) {
        recorder.bare5xx++;
        if (recorder.bare5xxSamples.length < 5) {
          const text = new TextDecoder().decode(body).slice(0, 300);
          recorder.bare5xxSamples.push({ endpoint, status: res.status, content_type: res.headers.get("content-type"), body: text });
        }
      }
      if (res.status === 503 && !res.headers.get("retry-after")) recorder.unhinted503++;
    },
    /** Responses by status over every endpoint. */
    byStatus() {
      /** @type {Record<string, number>} */
      const out = {};
      for (const s of recorder.endpoints.values())
        for (const [status, n] of Object.entries(s.statuses)) out[status] = (out[status] ?? 0) + n;
      return out;
    },
    fiveHundreds() {
      return Object.entries(recorder.byStatus()).reduce((n, [status, k]) => n + (Number(status) >= 500 ? k : 0), 0);
    },
  };
  return recorder;
}
