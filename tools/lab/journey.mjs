// @ts-check
// One virtual device's whole journey, through the client SDK exactly as the mobile app makes it:
// identity assertion → join → poll until admitted → token → nonce → credential → notification.
// Shared by the surge, the soak, the fault harness and the restart test, which differ only in how many
// devices they start, when, and what they do to the service meanwhile.
import { count } from "./requests.mjs";

/**
 * What a device's journey records (runJourney fills it in as it goes).
 * @typedef {{
 *   person: string,
 *   configuration: string,
 *   abandon: "waiting" | "admitted" | null,
 *   outcome: "unfinished" | "issued" | "denied" | "abandoned" | "failed",
 *   polls: number,
 *   retries: number,
 *   positions: number[],
 *   client?: any,
 *   joined_at?: number,
 *   ticket?: string,
 *   ord?: [number, number],
 *   join_position?: number | null,
 *   first_seen_admitted_at?: number,
 *   admitted_at?: number,
 *   admission_expires_at?: number,
 *   wait_ms?: number,
 *   code?: string | null,
 *   credential_ms?: number,
 *   credentials?: number,
 *   notified?: boolean,
 *   error?: string,
 *   notify_error?: string,
 * }} JourneyRecord
 * `client` is the SDK's AntichambreClient (the SDK is bundled at run time: lab/sdk.mjs says why untyped).
 */

/**
 * What a journey runs with: the SDK (lab/sdk.mjs), the service, the devices' fetch.
 * @typedef {{ sdk: any, base: string, room: string, fetch: (url: string | URL, init?: RequestInit) => Promise<Response>, metadataCache?: unknown, attempts?: number, stats?: { retries: Map<string, number> } }} JourneyContext
 */

/**
 * @typedef {{
 *   personId: string,
 *   configurationId: string,
 *   abandon?: "waiting" | "admitted" | null,
 *   afterToken?: () => Promise<void>,
 *   onState?: (state: string) => void,
 *   onRecord?: (rec: JourneyRecord) => void,
 *   signal?: AbortSignal,
 * }} JourneySpec
 */

const sleep = (/** @type {number} */ ms, /** @type {AbortSignal | undefined} */ signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/**
 * An identity assertion from the development identity service, bound to the device key `jkt` when given
 * (`cnf.jkt`: useless to anyone else). Retried like the SDK retries (network errors and 5xx, exponential
 * backoff with jitter): a device must get through a server restart.
 * @param {Pick<JourneyContext, "base" | "fetch" | "attempts">} ctx
 * @param {string} personId
 * @param {AbortSignal | undefined} signal
 * @param {string} [jkt]
 * @returns {Promise<string>}
 */
export async function identityAssertion(ctx, personId, signal, jkt) {
  const attempts = ctx.attempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    /** @type {{ identity_assertion?: unknown } | null} */
    let body = null;
    try {
      const res = await ctx.fetch(`${ctx.base}/v1/dev/identity-assertions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(jkt === undefined ? { person_id: personId } : { person_id: personId, jkt }),
        signal,
      });
      status = res.status;
      body = /** @type {{ identity_assertion?: unknown } | null} */ (await res.json().catch(() => null));
      if (status === 201 && typeof body?.identity_assertion === "string") return body.identity_assertion;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
    }
    if (attempt >= attempts || (status >= 400 && status < 500 && status !== 429)) {
      throw new Error(`identity assertion: ${status || "no response"} ${JSON.stringify(body).slice(0, 200)}`);
    }
    const step = Math.min(30_000, 500 * 2 ** (attempt - 1));
    await sleep(step / 2 + Math.random() * (step / 2), signal);
  }
}

/**
 * Runs one device. `ctx`: { sdk, base, room, fetch, metadataCache, attempts, stats (a recorder, for
 * retry counts) }. `spec`: { personId, configurationId, abandon: null | "waiting" | "admitted",
 * afterToken?: async () => void (the surge's bypass barrier), onState?: (state) => void,
 * onRecord?: (rec) => void (called at once with the record the journey fills in), signal }.
 *
 * Resolves with the device's record; never rejects. `outcome` is "issued", "denied" (no valid licence),
 * "abandoned" (left on purpose, see `abandon`), or "failed" with `error`.
 * - abandon "waiting": joins, reads its first status, and never polls again (a person who gave up);
 * - abandon "admitted": waits until admitted and never redeems the admission (it lapses after the TTL).
 * @param {JourneyContext} ctx
 * @param {JourneySpec} spec
 * @returns {Promise<JourneyRecord>}
 */
export async function runJourney(ctx, spec) {
  const { AntichambreClient, DeviceKey, CredentialDeniedError } = ctx.sdk;
  const { personId, configurationId, abandon = null, signal } = spec;
  /** @type {JourneyRecord} */
  const rec = { person: personId, configuration: configurationId, abandon, outcome: "unfinished", polls: 0, retries: 0, positions: [] };
  spec.onRecord?.(rec); // a live view, for callers that look at devices mid-journey
  const state = (/** @type {string} */ s) => spec.onState?.(s);
  try {
    const device = await DeviceKey.create();
    const client = new AntichambreClient({
      baseUrl: ctx.base,
      room: ctx.room,
      device,
      fetch: ctx.fetch,
      retry: { maxAttempts: ctx.attempts ?? 8 },
      metadataCache: ctx.metadataCache,
      onRetry: (/** @type {{ operation: string, error: { status?: number } }} */ info) => {
        rec.retries++;
        if (ctx.stats) count(ctx.stats.retries, `${info.operation} after ${info.error.status || "network"}`);
      },
    });
    rec.client = client;
    const assertion = await identityAssertion(ctx, personId, signal, device.thumbprint);
    const t0 = Date.now();
    const joined = await client.join(assertion, { signal });
    rec.joined_at = Date.now();
    rec.ticket = client.ticket;
    rec.ord = client.place;
    rec.join_position = joined.position ?? null;
    if (typeof joined.position === "number") rec.positions.push(joined.position);
    state("waiting");
    if (abandon === "waiting") {
      rec.outcome = "abandoned";
      return rec;
    }
    const admitted =
      joined.status === "admitted"
        ? joined
        : await client.waitUntilAdmitted({
            signal,
            onUpdate: (/** @type {{ status: string, position?: number }} */ s) => {
              rec.polls++;
              if (s.status === "waiting" && typeof s.position === "number") rec.positions.push(s.position);
            },
          });
    rec.first_seen_admitted_at = Date.now();
    rec.admitted_at = Date.parse(admitted.admission.admitted_at);
    rec.admission_expires_at = Date.parse(admitted.admission_expires_at);
    rec.wait_ms = rec.first_seen_admitted_at - t0;
    const offer = admitted.admission.credential_offer;
    rec.code = offer.grants?.["urn:ietf:params:oauth:grant-type:pre-authorized_code"]?.["pre-authorized_code"] ?? null;
    state("admitted");
    if (abandon === "admitted") {
      rec.outcome = "abandoned";
      return rec;
    }
    const t = Date.now();
    let issued;
    if (spec.afterToken) {
      const session = await client.token(offer, { signal });
      await spec.afterToken();
      if (signal?.aborted) throw signal.reason;
      issued = await client.credential(session, { configurationId }, { signal });
    } else {
      issued = await client.redeem(offer, { configurationId, signal });
    }
    rec.credential_ms = Date.now() - t;
    rec.credentials = issued.credentials.length;
    rec.outcome = "issued";
    state("issued");
    if (issued.notificationId) {
      await client.notify(issued.notificationId, "credential_accepted", { signal });
      rec.notified = true;
    }
  } catch (caught) {
    // The SDK's errors carry a status and a kind; anything else (a network error) has a message at most.
    const e = /** @type {{ name?: string, status?: number, kind?: string, message?: string } | null | undefined} */ (caught);
    if (caught instanceof CredentialDeniedError) {
      rec.outcome = "denied";
      state("denied");
    } else if (rec.outcome !== "issued") {
      rec.outcome = "failed";
      rec.error = `${e?.name ?? "Error"}${e?.status ? ` ${e.status}` : ""}${e?.kind ? ` ${e.kind}` : ""}: ${e?.message ?? e}`;
      state("failed");
    } else {
      rec.notify_error = `${e?.message ?? e}`;
    }
  }
  return rec;
}

/**
 * A device's ticket read once more, by its own client (what an abandoned phone would see if it came
 * back): "waiting", "admitted" or "expired"; null if the read failed.
 * @param {JourneyRecord} rec
 * @param {AbortSignal} [signal]
 * @returns {Promise<string | null>}
 */
export async function statusOf(rec, signal) {
  try {
    return (await rec.client.status({ signal })).status;
  } catch {
    return null;
  }
}
