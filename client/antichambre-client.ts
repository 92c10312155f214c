import { decodeJwt } from "jose";
import { DeviceKey } from "./device-key";
import { solveProofOfWork, type PowSolution, type SolveOptions } from "./proof-of-work";
import { denialText, isLicenceDenialReason, type LicenceDenialReason } from "../src/issuance/denial-reasons";

/**
 * The mobile app's side of Antichambre: join the waiting room, wait honestly, and redeem the admission
 * for a digital driving licence over OpenID4VCI 1.0 (pre-authorized code, DPoP-bound token).
 *
 *   const device = await DeviceKey.loadOrCreate(store);
 *   const client = new AntichambreClient({ baseUrl: "https://attente.example.fr", room: "permis", device });
 *   await client.join(identityAssertion);                 // from the national identity service
 *   const admitted = await client.waitUntilAdmitted({ onUpdate: (s) => render(s), signal });
 *   const mdl = await client.redeem(admitted.admission.credential_offer, { configurationId: MDOC_CONFIGURATION });
 *   await client.notify(mdl.notificationId!, "credential_accepted");
 *
 * Only fetch, WebCrypto and jose: browsers, Node 20 and workerd alike. Every side effect that matters
 * for testing is injectable: `fetch`, `clock` (proof `iat`s), `random` (jitter) and `sleep` (waits).
 *
 * Retries. Requests answered 429/502/503/504 (the service's deliberate "come back later", e.g. the
 * licence register at capacity) and network failures are retried with exponential backoff and jitter,
 * never sooner than the server's `Retry-After`, up to `retry.maxAttempts` attempts. Each attempt is a
 * new request with a fresh DPoP proof (and, at the credential endpoint, a fresh c_nonce and key
 * proofs: both are single use). Anything else is thrown at once as an `AntichambreError` carrying the
 * HTTP status and the problem+json body.
 *
 * Deferred issuance. When the licence register is at capacity the credential endpoint answers 202 with a
 * `transaction_id` and an `interval` (OpenID4VCI 1.0 §9) instead of a 503: `credential` waits each
 * interval and asks the deferred credential endpoint until the credentials come (within the session).
 *
 * DPoP nonces. The token, credential and notification endpoints require the server's DPoP nonce in each
 * proof (RFC 9449 §8–9): the latest `DPoP-Nonce` any answer carried is used, and a `use_dpop_nonce`
 * refusal is sent again at once with the nonce it carried.
 *
 * Proof of work. When the room is busy (or asks for it), a join is refused with 428 `pow_required` and a
 * challenge; `join` solves it on the device (WebCrypto SHA-256, in slices that leave the event loop
 * free, client/proof-of-work.ts) and joins again with the solution, at most `MAX_POW_ROUNDS` times.
 * `onProofOfWork` reports each solve (for a "securing your place…" message or metrics).
 *
 * Scheduled events. Before an event's pre-queue opens the room refuses joins (409
 * `prequeue-not-open`, with `prequeue_opens_at` and a Retry-After): `join` waits for the opening (the
 * server's Retry-After, so a wrong device clock does not matter, plus a random spread of up to
 * `PREQUEUE_SPREAD_MS`: everyone who joins during the pre-queue is placed by a draw, so there is
 * nothing to gain by arriving on the stroke) and joins again, reporting the wait to `onPrequeueWait`.
 * With `waitForPrequeue: false` it throws a `PrequeueNotOpenError` (with `opensAt`) at once instead.
 *
 * Handoff. The waiting page's QR code is a handoff offer by reference: a wallet resolves it with
 * `resolveCredentialOffer` (single use) and redeems it with `token(offer, { onConfirmationCode })`: the
 * issuer answers `authorization_pending` with a short code, which the wallet shows to its user and which
 * the waiting device approves with `approveHandoff(code)`; `token` asks again every `interval` seconds
 * (a fresh DPoP proof each time) until approved, refused, or aborted.
 *
 * The token request redeems a single-use code that opens the admission's one issuance session. If its
 * response is lost (the network, a server crash) after the service used the code, the code answers
 * `invalid_grant` (`code_used`); the client then polls its ticket for a fresh code and redeems that with
 * the same device key, which resumes the same session (with what it already used). Once the session has
 * ended (notified `credential_accepted`/`credential_deleted`, expired, ended by an operator) its token
 * answers 401 `invalid_token` and no fresh code starts another.
 */

// ---- types -----------------------------------------------------------------------------------------

/** The fetch the client uses: the global one, or any function of the same shape (tests, instrumentation). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
/** Waits `ms`; should reject when `signal` aborts. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/** The two credential configurations Antichambre issues. */
export const MDOC_CONFIGURATION = "fr.antichambre.mdl.mso_mdoc";
export const SD_JWT_CONFIGURATION = "fr.antichambre.mdl.dc_sd_jwt";

/** An RFC 9457 problem document, with the OAuth `error` members the service adds where the specs define them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  error?: string;
  error_description?: string;
  reason?: string;
  [member: string]: unknown;
}

export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  /** `interval`: seconds between token requests while the issuer answers `authorization_pending`. */
  grants: { [PRE_AUTHORIZED_GRANT]?: { "pre-authorized_code": string; interval?: number } };
}

export interface WaitingStatus {
  status: "waiting";
  /**
   * 1 is next. null when not known yet: an entrant of an event's pre-queue until the lottery is drawn
   * (`lottery_at`), or a place just re-joined from another device until the room counts it (a tick).
   */
  position: number | null;
  /** Pre-queue entrants: when the lottery places them (ISO 8601). */
  lottery_at?: string;
  /** null while the room is paused. */
  estimated_wait_seconds: number | null;
  poll_after_seconds: number;
}

export interface AdmittedStatus {
  status: "admitted";
  admission: {
    admitted_at: string;
    credential_offer: CredentialOffer;
    /** The same offer as an `openid-credential-offer://` link (for a wallet app on this device's key). */
    credential_offer_uri: string;
    /**
     * The same admission for a wallet on another device (a QR code): an offer by reference, fresh on
     * every poll, single use, usable until `expires_at`. The wallet that redeems it is given a token only
     * once this device approves the code it shows (`approveHandoff`).
     */
    handoff?: { credential_offer_uri: string; expires_at: string };
    /** ES256 JWT a protected service other than the built-in issuer verifies against the JWKS. */
    admission_token: string;
  };
  admission_expires_at: string;
}

export interface ExpiredStatus {
  status: "expired";
}

export type TicketStatus = WaitingStatus | AdmittedStatus | ExpiredStatus;

/** What `join` answers: the status, the ticket, and whether this person's place is new (201) or held (200). */
export type JoinResult = TicketStatus & { ticket: string; created: boolean };

export interface RoomInfo {
  room: string;
  state: "open" | "queueing" | "paused" | "closed";
  waiting: number;
  admitted_per_minute: number;
  estimated_wait_seconds: number | null;
}

/** A DPoP-bound access token from the token endpoint, with the endpoints it is good for. */
export interface IssuanceSession {
  readonly issuer: string;
  readonly accessToken: string;
  /** ms since the epoch, by the client's clock. */
  readonly expiresAt: number;
  readonly preAuthorizedCode: string;
  readonly endpoints: IssuerEndpoints;
}

export interface IssuerEndpoints {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly nonceEndpoint: string;
  readonly credentialEndpoint: string;
  readonly notificationEndpoint: string | null;
  /** Where a deferred request is completed (OpenID4VCI 1.0 §9), if the issuer defers. */
  readonly deferredCredentialEndpoint: string | null;
  /** Most key proofs (credentials) per credential request. */
  readonly batchSize: number;
}

export interface IssuedCredential {
  /** base64url CBOR IssuerSigned (mso_mdoc) or a compact SD-JWT VC (dc+sd-jwt). */
  readonly credential: string;
  /** The key the credential is bound to: the wallet keeps it to present the credential. */
  readonly key: DeviceKey;
}

export interface IssuedCredentials {
  readonly configurationId: string;
  readonly credentials: readonly IssuedCredential[];
  /** For `notify`; null if the issuer sent none. */
  readonly notificationId: string | null;
}

export type NotificationEvent = "credential_accepted" | "credential_failure" | "credential_deleted";

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** First backoff step; doubles each attempt. */
  baseDelayMs: number;
  /** Ceiling of a backoff step (a longer server Retry-After is still honoured). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface RetryInfo {
  /** Which call is retrying: join, status, room, discovery, token, nonce, credential, notification. */
  readonly operation: string;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: AntichambreError;
}

export interface AntichambreClientOptions {
  /** The waiting room's origin, e.g. https://attente.example.fr (no trailing path needed). */
  baseUrl: string;
  room: string;
  device: DeviceKey;
  fetch?: FetchLike;
  /** Current time in ms, for proof `iat`s (default Date.now). */
  clock?: () => number;
  /** Uniform in [0, 1), for jitter (default Math.random). */
  random?: () => number;
  sleep?: SleepFn;
  retry?: Partial<RetryPolicy>;
  /** Called before each retry wait (for "reconnecting…" UI, logs, metrics). */
  onRetry?: (info: RetryInfo) => void;
  /** A ticket saved from an earlier run: `status` and `waitUntilAdmitted` resume with it, no new join. */
  ticket?: string;
  /** Issuer metadata, shared between clients (key: issuer identifier). Default: one cache per client. */
  metadataCache?: Map<string, Promise<IssuerEndpoints>>;
  /** Tuning of the proof-of-work solver (batch size, slice length); the defaults suit phones. */
  proofOfWork?: Omit<SolveOptions, "signal">;
  /** Called after each proof of work solved for a join: difficulty (bits), hashes done, milliseconds. */
  onProofOfWork?: (info: { difficulty: number } & PowSolution) => void;
  /**
   * Called when a join finds an event's pre-queue not open yet, before waiting for it: when it opens
   * (ISO 8601, the server's) and how long `join` will wait, in ms (for a "the pre-queue opens at…" UI).
   */
  onPrequeueWait?: (info: { opensAt: string; delayMs: number }) => void;
}

/** How many challenges one `join` solves before giving up (a fresh one after a rise in difficulty, say). */
export const MAX_POW_ROUNDS = 3;
/**
 * A join refused because the pre-queue is not open waits this much longer than the server's
 * Retry-After at most (uniformly at random): a crowd told the same opening time does not all come back
 * in the same second, and within the pre-queue the moment of joining changes nothing.
 */
export const PREQUEUE_SPREAD_MS = 10_000;
/** Pre-queue waits per `join` (the server's Retry-After is rounded up, so one is the rule). */
export const MAX_PREQUEUE_WAITS = 3;

// ---- errors ----------------------------------------------------------------------------------------

/** Every failure the client reports. `status` is the HTTP status (0: no response), `problem` the problem+json body. */
export class AntichambreError extends Error {
  override readonly name: string = "AntichambreError";
  readonly status: number;
  readonly problem: Problem | null;
  /** True if the same call may succeed later (the client already retried `maxAttempts` times). */
  readonly retryable: boolean;
  /** The server's Retry-After, in seconds, if it sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(
    message: string,
    options: { status?: number; problem?: Problem | null; retryable?: boolean; retryAfterSeconds?: number | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? 0;
    this.problem = options.problem ?? null;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }

  /** The problem kind (`urn:antichambre:problem:<kind>`, or the OAuth `error`), e.g. "invalid-grant"; null if none. */
  get kind(): string | null {
    const type = this.problem?.type;
    if (typeof type === "string" && type.startsWith("urn:antichambre:problem:")) return type.slice("urn:antichambre:problem:".length);
    return typeof this.problem?.error === "string" ? this.problem.error.replaceAll("_", "-") : null;
  }
}

/** No response: DNS, connection, TLS, reset. Retryable. */
export class NetworkError extends AntichambreError {
  override readonly name = "NetworkError";
  constructor(message: string, cause: unknown) {
    super(message, { status: 0, retryable: true, cause });
  }
}

/** 429 / 502 / 503 / 504: the service (or the register behind it) asks to come back later. Retryable. */
export class UnavailableError extends AntichambreError {
  override readonly name = "UnavailableError";
}

/** The admission lapsed before it was used (or the place was used already): join again for a new place. */
export class AdmissionExpiredError extends AntichambreError {
  override readonly name = "AdmissionExpiredError";
}

/**
 * The room has a scheduled event whose pre-queue is not open: joins are refused until `opensAt` (ISO
 * 8601). `join` waits for it unless asked not to; not `retryable` in the backoff sense (coming back
 * before the opening is refused again), `retryAfterSeconds` says when.
 */
export class PrequeueNotOpenError extends AntichambreError {
  override readonly name = "PrequeueNotOpenError";
  readonly opensAt: string;
  constructor(message: string, options: ConstructorParameters<typeof AntichambreError>[1] & { opensAt: string }) {
    super(message, options);
    this.opensAt = options.opensAt;
  }
}

/**
 * The issuer refuses this person a credential (`credential_request_denied`). Not retryable. When the
 * licence itself is the reason, `licenceReason` says which (no licence, expired, suspended, withdrawn)
 * and `describe(lang)` what to tell the person, in French or English; otherwise (a spent session quota)
 * `licenceReason` is null and `problem.reason` names it.
 */
export class CredentialDeniedError extends AntichambreError {
  override readonly name = "CredentialDeniedError";

  get licenceReason(): LicenceDenialReason | null {
    const reason = this.problem?.reason;
    return isLicenceDenialReason(reason) ? reason : null;
  }

  /** The person-facing text: the licence reason in `lang` ("fr" or "en"), else the server's detail. */
  describe(lang: "fr" | "en"): string {
    const reason = this.licenceReason;
    return reason ? denialText(lang, reason) : (this.problem?.detail ?? this.message);
  }
}

/** The service answered something this client does not understand (or the client was used out of order). */
export class ProtocolError extends AntichambreError {
  override readonly name = "ProtocolError";
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** The Retry-After header in seconds (delta-seconds or an HTTP date), or null. */
function retryAfterOf(res: Response, nowMs: number): number | null {
  const value = res.headers.get("retry-after");
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - nowMs) / 1000)) : null;
}

function errorFromResponse(operation: string, res: Response, body: unknown, nowMs: number): AntichambreError {
  const problem = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Problem) : null;
  const retryAfterSeconds = retryAfterOf(res, nowMs);
  const what = problem?.detail ?? problem?.error_description ?? problem?.title ?? res.statusText ?? "";
  const message = `${operation}: ${res.status}${what ? ` ${what}` : ""}`;
  const options = { status: res.status, problem, retryAfterSeconds };
  if (RETRYABLE_STATUSES.has(res.status)) return new UnavailableError(message, { ...options, retryable: true });
  if (problem?.error === "credential_request_denied") return new CredentialDeniedError(message, options);
  if (problem?.type === "urn:antichambre:problem:prequeue-not-open" && typeof problem.prequeue_opens_at === "string") {
    return new PrequeueNotOpenError(message, { ...options, opensAt: problem.prequeue_opens_at });
  }
  return new AntichambreError(message, options);
}

function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error("the operation was aborted");
  e.name = "AbortError";
  return e;
}

/** setTimeout-based sleep that rejects with the signal's reason on abort. */
export const defaultSleep: SleepFn = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** The offer inside an `openid-credential-offer://?credential_offer=…` link (by value; see `resolveCredentialOffer` for both forms). */
export function parseCredentialOfferUri(uri: string): CredentialOffer {
  const query = uri.slice(uri.indexOf("?") + 1);
  const raw = new URLSearchParams(query).get("credential_offer");
  if (raw === null) throw new ProtocolError("the link carries no credential_offer (by reference: use resolveCredentialOffer)");
  return checkedOffer(JSON.parse(raw));
}

function checkedOffer(value: unknown): CredentialOffer {
  const offer = value as CredentialOffer | null;
  if (typeof offer?.credential_issuer !== "string") throw new ProtocolError("the credential offer names no credential_issuer");
  return offer;
}

/** What the waiting device's `approveHandoff` answers. */
export interface HandoffApproval {
  /** Approvals this admission still allows (right or wrong). */
  attemptsLeft: number;
}

/** `https://host/.well-known/<suffix>[/path]`: the well-known location for an identifier that may have a path. */
function wellKnownUrl(identifier: string, suffix: string): string {
  const u = new URL(identifier);
  const path = u.pathname === "/" ? "" : u.pathname.replace(/\/$/, "");
  return `${u.origin}/.well-known/${suffix}${path}`;
}

interface Exchange {
  url: string;
  init: RequestInit;
}

interface Answer {
  res: Response;
  body: unknown;
}

// ---- the client ------------------------------------------------------------------------------------

export class AntichambreClient {
  readonly baseUrl: string;
  readonly room: string;
  readonly device: DeviceKey;
  private readonly fetchFn: FetchLike;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly sleepFn: SleepFn;
  private readonly retryPolicy: RetryPolicy;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly powOptions: Omit<SolveOptions, "signal">;
  private readonly onProofOfWork: ((info: { difficulty: number } & PowSolution) => void) | undefined;
  private readonly onPrequeueWait: ((info: { opensAt: string; delayMs: number }) => void) | undefined;
  private readonly metadata: Map<string, Promise<IssuerEndpoints>>;
  private currentTicket: string | null;
  private currentSession: IssuanceSession | null = null;
  /** The latest `DPoP-Nonce` the issuer sent (RFC 9449 §8): every token/resource proof carries it. */
  private dpopNonce: string | undefined;

  constructor(options: AntichambreClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.room = options.room;
    this.device = options.device;
    // Unbound global fetch throws "Illegal invocation" in browsers: call it through a closure.
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.sleepFn = options.sleep ?? defaultSleep;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.onRetry = options.onRetry;
    this.powOptions = options.proofOfWork ?? {};
    this.onProofOfWork = options.onProofOfWork;
    this.onPrequeueWait = options.onPrequeueWait;
    this.metadata = options.metadataCache ?? new Map();
    this.currentTicket = options.ticket ?? null;
  }

  /** The queue ticket (save it to resume after an app restart), or null before `join`. */
  get ticket(): string | null {
    return this.currentTicket;
  }

  /**
   * The ticket's order key [a, b] (arrival stamp in ms, tie-break): readable, only the service can sign
   * it. Null for an event's pre-queue entrant: its key is its lottery draw, sealed in the ticket.
   */
  get place(): [number, number] | null {
    if (!this.currentTicket) return null;
    const ord = decodeJwt(this.currentTicket).ord;
    return Array.isArray(ord) && ord.length === 2 && ord.every((n) => typeof n === "number") ? [ord[0] as number, ord[1] as number] : null;
  }

  /** The issuance session of the last `token`/`redeem`, or null. */
  get session(): IssuanceSession | null {
    return this.currentSession;
  }

  /**
   * A POST of JSON to one of the issuance session's resource endpoints: the DPoP-bound access token and a
   * fresh proof for it (with the server's latest DPoP nonce). Built again for every attempt, since a
   * proof's jti is single use.
   */
  private async resourceRequest(session: IssuanceSession, url: string, body: unknown): Promise<{ url: string; init: RequestInit }> {
    const dpop = await this.device.dpopProof({
      method: "POST",
      url,
      accessToken: session.accessToken,
      nonce: this.dpopNonce,
      now: this.clock(),
    });
    return {
      url,
      init: {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `DPoP ${session.accessToken}`, dpop },
        body: JSON.stringify(body),
      },
    };
  }

  private get roomPath(): string {
    return `${this.baseUrl}/v1/rooms/${encodeURIComponent(this.room)}`;
  }

  // ---- waiting room --------------------------------------------------------------------------------

  /** The room's public state (state, people waiting, the wait a newcomer would be told). */
  async roomInfo(options: { signal?: AbortSignal } = {}): Promise<RoomInfo> {
    const { body } = await this.exchange("room", async () => ({ url: this.roomPath, init: { method: "GET" } }), options.signal);
    return body as RoomInfo;
  }

  /**
   * Takes a place in line with a DPoP proof by the device key. Idempotent per person: joining again (from
   * this or another device) returns the place already held (`created: false`), now bound to this device.
   * Before an event's pre-queue opens, waits for it (see the top of this file) unless `waitForPrequeue`
   * is false.
   */
  async join(identityAssertion: string, options: { signal?: AbortSignal; waitForPrequeue?: boolean } = {}): Promise<JoinResult> {
    const url = `${this.roomPath}/tickets`;
    let pow: { challenge: string; solution: string } | undefined;
    let answer: Answer;
    let prequeueWaits = 0;
    for (let round = 0; ; round++) {
      try {
        answer = await this.exchange(
          "join",
          async () => ({
            url,
            init: {
              method: "POST",
              headers: {
                "content-type": "application/json",
                dpop: await this.device.dpopProof({ method: "POST", url, now: this.clock() }),
              },
              body: JSON.stringify(pow ? { identity_assertion: identityAssertion, pow } : { identity_assertion: identityAssertion }),
            },
          }),
          options.signal,
        );
        break;
      } catch (e) {
        if (e instanceof PrequeueNotOpenError && options.waitForPrequeue !== false && prequeueWaits < MAX_PREQUEUE_WAITS) {
          prequeueWaits++;
          round--; // a wait for the opening is not a proof-of-work round
          const delayMs = (e.retryAfterSeconds ?? 1) * 1000 + Math.floor(this.random() * PREQUEUE_SPREAD_MS);
          this.onPrequeueWait?.({ opensAt: e.opensAt, delayMs });
          await this.sleepFn(delayMs, options.signal);
          continue;
        }
        const challenge = e instanceof AntichambreError && e.status === 428 ? powChallengeOf(e.problem) : null;
        if (!challenge || round >= MAX_POW_ROUNDS) throw e;
        const solved = await solveProofOfWork(challenge.challenge, challenge.difficulty, {
          ...this.powOptions,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        this.onProofOfWork?.({ difficulty: challenge.difficulty, ...solved });
        pow = { challenge: challenge.challenge, solution: solved.solution };
      }
    }
    const { res, body } = answer;
    const ticket = (body as { ticket?: unknown } | null)?.ticket;
    if (typeof ticket !== "string" || !isTicketStatus(body))
      throw new ProtocolError(`join: unexpected answer ${JSON.stringify(body).slice(0, 200)}`, { status: res.status });
    this.currentTicket = ticket;
    return { ...body, ticket, created: res.status === 201 };
  }

  /** One poll: waiting (position, estimate, when to ask again), admitted (the offer), or expired. */
  async status(options: { signal?: AbortSignal } = {}): Promise<TicketStatus> {
    return (await this.poll(options.signal)).status;
  }

  private async poll(signal: AbortSignal | undefined): Promise<{ status: TicketStatus; retryAfterSeconds: number | null }> {
    const ticket = this.currentTicket;
    if (!ticket) throw new ProtocolError("no ticket: join first");
    const url = `${this.roomPath}/tickets/current`;
    const { res, body } = await this.exchange(
      "status",
      async () => ({
        url,
        init: {
          method: "GET",
          // The service reads polls as bearer requests today; the proof keeps every request of this
          // client signed by its key, so the service can demand it without a client change.
          headers: {
            authorization: `Bearer ${ticket}`,
            dpop: await this.device.dpopProof({ method: "GET", url, accessToken: ticket, now: this.clock() }),
          },
        },
      }),
      signal,
    );
    if (!isTicketStatus(body))
      throw new ProtocolError(`status: unexpected answer ${JSON.stringify(body).slice(0, 200)}`, { status: res.status });
    return { status: body, retryAfterSeconds: retryAfterOf(res, this.clock()) };
  }

  /**
   * Polls until admitted, when the service says to (`poll_after_seconds`, else `Retry-After`), with ±10 %
   * jitter of its own. Resolves with the admitted status. Rejects with AdmissionExpiredError if the
   * ticket reads expired, with the signal's reason on abort, and with the last error once a request
   * failed `retry.maxAttempts` times in a row (or at once if the error is not retryable, e.g. a bad ticket).
   */
  async waitUntilAdmitted(options: { onUpdate?: (status: TicketStatus) => void; signal?: AbortSignal } = {}): Promise<AdmittedStatus> {
    const { onUpdate, signal } = options;
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const { status, retryAfterSeconds } = await this.poll(signal);
      onUpdate?.(status);
      if (status.status === "admitted") return status;
      if (status.status === "expired") {
        throw new AdmissionExpiredError("the admission expired before it was used; join again for a new place", { status: 200 });
      }
      const seconds = status.poll_after_seconds ?? retryAfterSeconds ?? 5;
      const ms = Math.min(120_000, Math.max(1_000, seconds * 1000)) * (0.9 + 0.2 * this.random());
      await this.sleepFn(Math.round(ms), signal);
    }
  }

  /**
   * As the waiting device: approves the wallet showing `confirmationCode` (typed by the person), so that
   * wallet's token request succeeds. Signed by this device's key (the ticket's); a copied ticket cannot.
   * A refusal is an AntichambreError: `problem.reason` wrong_code (with `attempts_left`),
   * too_many_attempts, ambiguous_code, malformed_code.
   */
  async approveHandoff(confirmationCode: string, options: { signal?: AbortSignal } = {}): Promise<HandoffApproval> {
    const ticket = this.currentTicket;
    if (!ticket) throw new ProtocolError("no ticket: join first");
    const url = `${this.roomPath}/tickets/current/handoff`;
    const { res, body } = await this.exchange(
      "handoff",
      async () => ({
        url,
        init: {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${ticket}`,
            dpop: await this.device.dpopProof({ method: "POST", url, accessToken: ticket, now: this.clock() }),
          },
          body: JSON.stringify({ confirmation_code: confirmationCode }),
        },
      }),
      options.signal,
    );
    const left = (body as { attempts_left?: unknown } | null)?.attempts_left;
    if (typeof left !== "number")
      throw new ProtocolError(`handoff: unexpected answer ${JSON.stringify(body).slice(0, 200)}`, { status: res.status });
    return { attemptsLeft: left };
  }

  // ---- issuance (OpenID4VCI 1.0, pre-authorized code) ---------------------------------------------

  /** The issuer's endpoints, from its metadata and its authorization server's (cached). */
  async discover(issuer: string, options: { signal?: AbortSignal } = {}): Promise<IssuerEndpoints> {
    let cached = this.metadata.get(issuer);
    if (!cached) {
      cached = this.fetchEndpoints(issuer, options.signal);
      this.metadata.set(issuer, cached);
      cached.catch(() => this.metadata.delete(issuer));
    }
    return cached;
  }

  private async fetchEndpoints(issuer: string, signal: AbortSignal | undefined): Promise<IssuerEndpoints> {
    const get = async (url: string) =>
      (await this.exchange("discovery", async () => ({ url, init: { method: "GET" } }), signal)).body as Record<string, unknown> | null;
    const meta = await get(wellKnownUrl(issuer, "openid-credential-issuer"));
    if (meta?.credential_issuer !== issuer || typeof meta.credential_endpoint !== "string" || typeof meta.nonce_endpoint !== "string") {
      throw new ProtocolError(
        `discovery: the metadata of ${issuer} is not usable (credential_issuer, credential_endpoint, nonce_endpoint)`,
      );
    }
    const servers = Array.isArray(meta.authorization_servers) ? (meta.authorization_servers as unknown[]) : [];
    const authorizationServer = typeof servers[0] === "string" ? servers[0] : issuer;
    const as = await get(wellKnownUrl(authorizationServer, "oauth-authorization-server"));
    if (typeof as?.token_endpoint !== "string") throw new ProtocolError(`discovery: ${authorizationServer} names no token_endpoint`);
    const batch = meta.batch_credential_issuance as { batch_size?: unknown } | undefined;
    return {
      issuer,
      tokenEndpoint: as.token_endpoint,
      nonceEndpoint: meta.nonce_endpoint,
      credentialEndpoint: meta.credential_endpoint,
      notificationEndpoint: typeof meta.notification_endpoint === "string" ? meta.notification_endpoint : null,
      deferredCredentialEndpoint: typeof meta.deferred_credential_endpoint === "string" ? meta.deferred_credential_endpoint : null,
      batchSize: typeof batch?.batch_size === "number" && batch.batch_size >= 1 ? batch.batch_size : 1,
    };
  }

  /**
   * The offer of an `openid-credential-offer://` link (a scanned QR code): by value, or by reference
   * (`credential_offer_uri`, fetched here; the waiting page's references are single use: a second
   * fetch is refused, scan the page's current QR code instead).
   */
  async resolveCredentialOffer(link: string, options: { signal?: AbortSignal } = {}): Promise<CredentialOffer> {
    const params = new URLSearchParams(link.slice(link.indexOf("?") + 1));
    const url = params.get("credential_offer_uri");
    if (url === null) return parseCredentialOfferUri(link);
    if (!/^https?:\/\//.test(url)) throw new ProtocolError("the credential_offer_uri is not an http(s) URL");
    const { body } = await this.exchange("offer", async () => ({ url, init: { method: "GET" } }), options.signal);
    return checkedOffer(body);
  }

  /**
   * Redeems the offer's pre-authorized code for a DPoP-bound access token (proof by the device key).
   * A handoff offer (scanned from another device's page) first needs that page's approval of this key:
   * while the issuer answers `authorization_pending`, `onConfirmationCode` gets the code to show the
   * user (again only when it changes) and the request is repeated every `interval` seconds.
   */
  async token(
    offer: CredentialOffer,
    options: { signal?: AbortSignal; onConfirmationCode?: (code: string) => void } = {},
  ): Promise<IssuanceSession> {
    try {
      return await this.redeemCode(offer, options);
    } catch (e) {
      // A lost answer: the code was used by this very device. Its ticket's poll hands out a fresh code for
      // the same admission, which resumes the same session. (A wallet that scanned a handoff QR code has no
      // ticket: it scans a fresh code, and its approved key resumes the session the same way.)
      const codeUsed = e instanceof AntichambreError && e.problem?.reason === "code_used";
      if (!codeUsed || !this.currentTicket) throw e;
      const { status } = await this.poll(options.signal);
      if (status.status !== "admitted") throw e;
      const resumed = await this.redeemCode(status.admission.credential_offer, options);
      // Filed under the code the caller holds, so `redeem` with that offer keeps using this session.
      this.currentSession = { ...resumed, preAuthorizedCode: offer.grants[PRE_AUTHORIZED_GRANT]!["pre-authorized_code"] };
      return this.currentSession;
    }
  }

  private async redeemCode(
    offer: CredentialOffer,
    options: { signal?: AbortSignal; onConfirmationCode?: (code: string) => void },
  ): Promise<IssuanceSession> {
    const grant = offer.grants?.[PRE_AUTHORIZED_GRANT];
    const code = grant?.["pre-authorized_code"];
    if (typeof code !== "string") throw new ProtocolError("the credential offer has no pre-authorized code");
    const form = new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, "pre-authorized_code": code }).toString();
    const endpoints = await this.discover(offer.credential_issuer, options);
    const request = () =>
      this.exchange(
        "token",
        async () => ({
          url: endpoints.tokenEndpoint,
          init: {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              dpop: await this.device.dpopProof({ method: "POST", url: endpoints.tokenEndpoint, nonce: this.dpopNonce, now: this.clock() }),
            },
            body: form,
          },
        }),
        options.signal,
      );
    let shown: string | null = null;
    let answer: Answer;
    for (;;) {
      try {
        answer = await request();
        break;
      } catch (e) {
        if (!(e instanceof AntichambreError) || e.problem?.error !== "authorization_pending") throw e;
        const pending = e.problem;
        const confirmation = pending.confirmation_code;
        if (typeof confirmation !== "string")
          throw new ProtocolError("token: authorization_pending without a confirmation_code", { status: e.status, problem: pending });
        if (!options.onConfirmationCode)
          throw new ProtocolError("token: the issuer waits for this wallet to be approved: pass onConfirmationCode to show the code", {
            status: e.status,
            problem: pending,
          });
        if (confirmation !== shown) options.onConfirmationCode(confirmation);
        shown = confirmation;
        const interval = typeof pending.interval === "number" && pending.interval >= 1 ? pending.interval : (grant?.interval ?? 5);
        await this.sleepFn(Math.min(60, interval) * 1000, options.signal);
      }
    }
    const { res, body } = answer;
    const t = body as { access_token?: unknown; token_type?: unknown; expires_in?: unknown } | null;
    if (typeof t?.access_token !== "string" || typeof t.token_type !== "string" || t.token_type.toLowerCase() !== "dpop") {
      throw new ProtocolError(`token: expected a DPoP access token, got ${JSON.stringify(body).slice(0, 200)}`, { status: res.status });
    }
    const expiresIn = typeof t.expires_in === "number" ? t.expires_in : 300;
    this.currentSession = {
      issuer: offer.credential_issuer,
      accessToken: t.access_token,
      expiresAt: this.clock() + expiresIn * 1000,
      preAuthorizedCode: code,
      endpoints,
    };
    return this.currentSession;
  }

  /** A fresh c_nonce (single use). */
  async nonce(endpoints: IssuerEndpoints, options: { signal?: AbortSignal } = {}): Promise<string> {
    const { body } = await this.exchange("nonce", async () => ({ url: endpoints.nonceEndpoint, init: { method: "POST" } }), options.signal);
    const n = (body as { c_nonce?: unknown } | null)?.c_nonce;
    if (typeof n !== "string") throw new ProtocolError("nonce: no c_nonce in the answer");
    return n;
  }

  /**
   * One credential request: `walletKeys` (or `batch` fresh non-extractable keys, default 1) each sign a
   * key proof over a fresh c_nonce; one credential comes back per key, bound to it.
   */
  async credential(
    session: IssuanceSession,
    request: { configurationId: string; walletKeys?: readonly DeviceKey[]; batch?: number },
    options: { signal?: AbortSignal } = {},
  ): Promise<IssuedCredentials> {
    const { endpoints } = session;
    const keys = request.walletKeys?.length
      ? [...request.walletKeys]
      : await Promise.all(Array.from({ length: Math.max(1, request.batch ?? 1) }, () => DeviceKey.create()));
    if (keys.length > endpoints.batchSize) {
      throw new AntichambreError(`credential: ${keys.length} keys asked, the issuer issues at most ${endpoints.batchSize} per request`);
    }
    let { res, body } = await this.exchange(
      "credential",
      async () => {
        // Fresh every attempt: the c_nonce and the DPoP jti are single use, and a refused attempt used them.
        const cNonce = await this.nonce(endpoints, options);
        const proofs = await Promise.all(keys.map((k) => k.keyProof({ audience: session.issuer, nonce: cNonce, now: this.clock() })));
        return this.resourceRequest(session, endpoints.credentialEndpoint, {
          credential_configuration_id: request.configurationId,
          proofs: { jwt: proofs },
        });
      },
      options.signal,
      // A nonce that expired between the nonce and credential requests is worth one more try.
      (e) => e.kind === "invalid-nonce",
    );
    if (res.status === 202) ({ res, body } = await this.followDeferral(session, body, options.signal));
    const answer = body as { credentials?: unknown; notification_id?: unknown } | null;
    const list = Array.isArray(answer?.credentials) ? (answer!.credentials as { credential?: unknown }[]) : null;
    if (!list || list.length !== keys.length || list.some((c) => typeof c?.credential !== "string")) {
      throw new ProtocolError(`credential: expected ${keys.length} credential(s), got ${JSON.stringify(body).slice(0, 200)}`, {
        status: res.status,
      });
    }
    return {
      configurationId: request.configurationId,
      credentials: list.map((c, i) => ({ credential: c.credential as string, key: keys[i]! })),
      notificationId: typeof answer?.notification_id === "string" ? answer.notification_id : null,
    };
  }

  /**
   * A deferred request (202 `{transaction_id, interval}`: the licence register was at capacity): asks
   * the deferred credential endpoint after each `interval` (at least 1 s, at most a minute) until the
   * credentials come, while the session lasts.
   */
  private async followDeferral(session: IssuanceSession, first: unknown, signal: AbortSignal | undefined): Promise<Answer> {
    const url = session.endpoints.deferredCredentialEndpoint;
    let pending = first as { transaction_id?: unknown; interval?: unknown } | null;
    for (;;) {
      const transactionId = pending?.transaction_id;
      if (typeof transactionId !== "string") throw new ProtocolError("credential: a 202 answer without a transaction_id", { status: 202 });
      if (!url) throw new ProtocolError("credential: deferred, but the issuer names no deferred_credential_endpoint", { status: 202 });
      if (this.clock() >= session.expiresAt) throw new AntichambreError("credential: still deferred when the issuance session ended");
      const interval = typeof pending?.interval === "number" ? Math.min(60, Math.max(1, pending.interval)) : 5;
      await this.sleepFn(interval * 1000, signal);
      const answer = await this.exchange(
        "deferred_credential",
        () => this.resourceRequest(session, url, { transaction_id: transactionId }),
        signal,
      );
      if (answer.res.status !== 202) return answer;
      pending = answer.body as typeof pending;
    }
  }

  /**
   * token → nonce → credential for one configuration. Calling it again with the same offer (e.g. for the
   * other format) reuses the session: the pre-authorized code is single use.
   */
  async redeem(
    offer: CredentialOffer,
    request: {
      configurationId: string;
      walletKeys?: readonly DeviceKey[];
      batch?: number;
      signal?: AbortSignal;
      onConfirmationCode?: (code: string) => void;
    },
  ): Promise<IssuedCredentials> {
    const code = offer.grants?.[PRE_AUTHORIZED_GRANT]?.["pre-authorized_code"];
    const { signal, onConfirmationCode, ...rest } = request;
    const current = this.currentSession;
    const session =
      current !== null && current.preAuthorizedCode === code && current.expiresAt > this.clock() + 5_000
        ? current
        : await this.token(offer, { ...(signal ? { signal } : {}), ...(onConfirmationCode ? { onConfirmationCode } : {}) });
    return this.credential(session, rest, { signal });
  }

  /**
   * Tells the issuer what became of the credentials. `credential_accepted` or `credential_deleted` ends the
   * issuance session (its token stops working, the waiting-room slot is freed): send it once every
   * configuration wanted was obtained. `credential_failure` keeps the session open for another try.
   */
  async notify(
    notificationId: string,
    event: NotificationEvent,
    options: { description?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    const session = this.currentSession;
    if (!session) throw new ProtocolError("notify: no issuance session (redeem first)");
    const url = session.endpoints.notificationEndpoint;
    if (!url) throw new ProtocolError("notify: the issuer has no notification endpoint");
    const payload: Record<string, string> = { notification_id: notificationId, event };
    if (options.description !== undefined) payload.event_description = options.description;
    await this.exchange("notification", () => this.resourceRequest(session, url, payload), options.signal);
  }

  // ---- transport -------------------------------------------------------------------------------------

  /** Backoff before retry `attempt` (1-based): exponential with jitter, never under Retry-After. */
  private backoffMs(attempt: number, error: AntichambreError): number {
    const { baseDelayMs, maxDelayMs } = this.retryPolicy;
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = step / 2 + (this.random() * step) / 2;
    if (error.retryAfterSeconds === null) return Math.round(jittered);
    // Honour the server, and spread those it refused together so they do not come back together.
    const floor = Math.max(error.retryAfterSeconds * 1000, jittered);
    return Math.round(floor * (1 + 0.25 * this.random()));
  }

  /**
   * One logical request: `build` makes a fresh request per attempt (new proofs); 2xx resolves, a
   * retryable failure is retried after a backoff, anything else rejects with an AntichambreError.
   * Every answer's `DPoP-Nonce` is remembered for the next proof; a `use_dpop_nonce` refusal (RFC 9449
   * §8–9: the proof lacked the server's current nonce) is sent again at once with the nonce it carried,
   * once per call, without counting as an attempt.
   */
  private async exchange(
    operation: string,
    build: () => Promise<Exchange>,
    signal: AbortSignal | undefined,
    alsoRetry?: (error: AntichambreError) => boolean,
  ): Promise<Answer> {
    const { maxAttempts } = this.retryPolicy;
    let nonceRetried = false;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      let error: AntichambreError;
      try {
        const { url, init } = await build();
        let res: Response;
        try {
          res = await this.fetchFn(url, signal ? { ...init, signal } : init);
        } catch (cause) {
          if (signal?.aborted) throw abortReason(signal);
          throw new NetworkError(`${operation}: no response (${cause instanceof Error ? cause.message : String(cause)})`, cause);
        }
        this.dpopNonce = res.headers.get("dpop-nonce") ?? this.dpopNonce;
        const body = await readBody(res);
        if (res.ok) return { res, body };
        error = errorFromResponse(operation, res, body, this.clock());
      } catch (e) {
        if (!(e instanceof AntichambreError)) throw e;
        error = e;
      }
      if (error.problem?.error === "use_dpop_nonce" && !nonceRetried) {
        nonceRetried = true;
        attempt--;
        continue;
      }
      const retry = error.retryable || (alsoRetry?.(error) ?? false);
      if (!retry || attempt >= maxAttempts) throw error;
      const delayMs = this.backoffMs(attempt, error);
      this.onRetry?.({ operation, attempt, delayMs, error });
      await this.sleepFn(delayMs, signal);
    }
  }
}

/** The challenge a 428 `pow_required` refusal carries, or null. */
function powChallengeOf(problem: Problem | null): { challenge: string; difficulty: number } | null {
  const challenge = problem?.challenge;
  const difficulty = problem?.difficulty;
  return typeof challenge === "string" && typeof difficulty === "number" && Number.isInteger(difficulty) ? { challenge, difficulty } : null;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  if (!/json/i.test(res.headers.get("content-type") ?? "")) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isTicketStatus(body: unknown): body is TicketStatus {
  if (body === null || typeof body !== "object") return false;
  const s = (body as { status?: unknown }).status;
  if (s === "expired") return true;
  if (s === "waiting") {
    const p = (body as WaitingStatus).position;
    return typeof p === "number" || p === null;
  }
  if (s === "admitted") return typeof (body as AdmittedStatus).admission?.credential_offer?.credential_issuer === "string";
  return false;
}
