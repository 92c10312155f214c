import type { QueueShard } from "../../durable-objects/queue-shard";
import type { IssuanceSessions } from "../../durable-objects/issuance-sessions";
import type { ReplayGuard } from "../../durable-objects/replay-guard";
import type { RoomCoordinator } from "../../durable-objects/room-coordinator";
import { ApiError } from "../http/problem";

/** The Worker's bindings, as declared in wrangler.toml (vars) and by `wrangler secret put` (secrets). */
export interface Env {
  ROOM_COORDINATOR: DurableObjectNamespace<RoomCoordinator>;
  QUEUE_SHARD: DurableObjectNamespace<QueueShard>;
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  ISSUANCE_SESSIONS: DurableObjectNamespace<IssuanceSessions>;
  /**
   * Public origin of the service (the OpenID4VCI credential_issuer), e.g. "https://permis.example.fr".
   * Required in a deployment (issuance and its metadata answer 503 without it); in development the
   * request's origin stands in when it is unset (src/issuance/issuer-url.ts).
   */
  PUBLIC_ORIGIN?: string;
  /** Most credentials one credential request may ask for (one per key proof). */
  CREDENTIAL_BATCH_SIZE?: string;
  /**
   * "development" switches on the development kit's defaults and routes, when the Worker was built from
   * the development entry (src/dev/index.ts: npm start, the tests); anything else is a deployment.
   */
  ENVIRONMENT: string;
  /** Comma-separated rooms that exist before any admin call. */
  DEFAULT_ROOMS: string;
  ADMISSION_TICK_MS: string;
  SNAPSHOT_TTL_MS: string;
  /** The national licence register (D1); read only through src/register/register.ts. */
  REGISTER: D1Database;
  /** Register reads in flight at once per isolate (default 8). */
  REGISTER_MAX_CONCURRENCY?: string;
  /** Simulated latency per register read, in ms; applied only in development (default 40). */
  REGISTER_LATENCY_MS?: string;
  /** How long a register read may wait for a slot before RegisterBusyError, in ms (default 250). */
  REGISTER_QUEUE_TIMEOUT_MS?: string;
  /** How long a register read holding a slot may take before it fails as unavailable, in ms (default 5000). */
  REGISTER_READ_TIMEOUT_MS?: string;
  /** Deadline of every Durable Object call (edge → object, coordinator → shard), in ms (default 5000). */
  DURABLE_CALL_TIMEOUT_MS?: string;
  /** "errors": log only requests answered 4xx/5xx; "all" or unset: every request (src/http/request-log.ts). */
  LOG_REQUESTS?: string;
  /** Workers Analytics Engine dataset (optional): admissions and issuance outcomes (src/metrics/analytics.ts). */
  ANALYTICS?: AnalyticsEngineDataset;
  /** Workers Static Assets (build/public): the pages' browser bundles, served before the Worker runs. */
  ASSETS?: Fetcher;
  /**
   * Abuse resistance (src/config/abuse-config.ts, SECURITY.md, docs/threats/rate-limits.md). Rate limits
   * "LIMIT/PERIOD_SECONDS" or "off": polls per ticket; joins per device key, per person and (with
   * challenges) per client address; /token per client address and per code; /nonce per client address;
   * /credential per issuance session; /notification, the admin API and /admin/login per client address.
   * The optional Workers rate-limiting bindings add a per-location count with wrangler.toml's limits.
   */
  RATE_LIMIT_POLL?: string;
  RATE_LIMIT_JOIN_DEVICE?: string;
  RATE_LIMIT_JOIN_CLIENT?: string;
  RATE_LIMIT_JOIN_PERSON?: string;
  RATE_LIMIT_TOKEN_CLIENT?: string;
  RATE_LIMIT_TOKEN_CODE?: string;
  RATE_LIMIT_NONCE_CLIENT?: string;
  RATE_LIMIT_CREDENTIAL_SESSION?: string;
  RATE_LIMIT_NOTIFICATION_CLIENT?: string;
  RATE_LIMIT_ADMIN_CLIENT?: string;
  RATE_LIMIT_ADMIN_LOGIN_CLIENT?: string;
  POLL_LIMITER?: RateLimit;
  JOIN_DEVICE_LIMITER?: RateLimit;
  JOIN_CLIENT_LIMITER?: RateLimit;
  JOIN_PERSON_LIMITER?: RateLimit;
  TOKEN_CLIENT_LIMITER?: RateLimit;
  TOKEN_CODE_LIMITER?: RateLimit;
  NONCE_CLIENT_LIMITER?: RateLimit;
  CREDENTIAL_SESSION_LIMITER?: RateLimit;
  NOTIFICATION_CLIENT_LIMITER?: RateLimit;
  ADMIN_CLIENT_LIMITER?: RateLimit;
  ADMIN_LOGIN_CLIENT_LIMITER?: RateLimit;
  /** Join proof of work, in leading zero bits: floor, ceiling, and the arrival rate at which load asks for it. */
  POW_FLOOR_BITS?: string;
  POW_CEILING_BITS?: string;
  POW_BUSY_ARRIVALS_PER_SECOND?: string;
  /** Secrets. */
  ADMIN_TOKEN?: string;
  TICKET_KEYS?: string;
  SIGNING_KEYS?: string;
  PSEUDONYM_KEY?: string;
  /** The national identity service: its JWKS (JSON), issuer and the audience it mints for us. */
  IDENTITY_JWKS?: string;
  IDENTITY_ISSUER?: string;
  IDENTITY_AUDIENCE?: string;
  /** "required": refuse identity assertions not bound to the joining device's key (cnf.jkt); default "optional". */
  IDENTITY_BINDING?: string;
  /** mdoc Document Signer: private JWK (with kid) and certificate (PEM); the IACA root (PEM, published). */
  MDOC_DS_KEY?: string;
  MDOC_DS_CERT?: string;
  IACA_CERT?: string;
}

export type SecretName =
  | "ADMIN_TOKEN"
  | "TICKET_KEYS"
  | "SIGNING_KEYS"
  | "PSEUDONYM_KEY"
  | "IDENTITY_JWKS"
  | "IDENTITY_ISSUER"
  | "MDOC_DS_KEY"
  | "MDOC_DS_CERT"
  | "IACA_CERT";

export function isDevelopment(env: Env): boolean {
  return env.ENVIRONMENT === "development";
}

/**
 * A secret, or undefined when this deployment lacks it. Nothing here falls back to a default: the
 * development defaults are filled into the env by the development entry (src/dev/kit.ts), so a
 * production bundle does not contain them (test/build/production-bundle.test.mjs).
 */
export function secret(env: Env, name: SecretName): string | undefined {
  return env[name] || undefined;
}

/** A secret this request cannot do without: a deployment lacking it answers 503 not-configured. */
export function required(env: Env, name: SecretName): string {
  const value = secret(env, name);
  if (!value) throw new ApiError("not_configured", `${name} is not configured on this deployment`);
  return value;
}

/** The audience identity assertions must be minted for. */
export function identityAudience(env: Env): string {
  return env.IDENTITY_AUDIENCE || "antichambre";
}

export function intVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

export function defaultRooms(env: Env): string[] {
  return (env.DEFAULT_ROOMS ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
}
