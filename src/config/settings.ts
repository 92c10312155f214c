import { z } from "zod";
import { MAX_POW_BITS } from "../abuse/pow";
import { DEFAULT_POW_POLICY, type PowPolicy } from "../abuse/pow-difficulty";
import { parsePolicy, type RateLimitPolicy } from "../abuse/rate-limit";
import { DEFAULT_RATE_LIMITS, type LimitScope, type LimitVariable } from "./abuse-config";
import { ConfigError, type ConfigProblem } from "./config-error";
import { RoomNameSchema } from "./room-config";

/**
 * Every Worker variable (wrangler.toml [vars]) and secret (`wrangler secret put`), validated in one
 * place: `settingsOf(env)` parses the env once per env object and either returns typed settings or
 * throws one ConfigError naming EVERY bad variable and why (never its value: secrets pass through here).
 *
 * The rules (docs/configuration.md):
 * - unset (or empty: wrangler and the dashboard cannot always delete a variable) → today's default;
 * - set but malformed → an error by name. Nothing falls back silently: `ADMISSION_TICK_MS = "1s"` used to
 *   become 1000 without a word, which hides a typo until the day it matters;
 * - a missing secret is not an error here (a deployment may run the waiting room before its issuance
 *   keys exist); the code that needs it calls `required` and answers 503 not-configured then.
 *
 * Secrets are checked only where the check is cheap and certain (JSON shapes, PEM armour); importing the
 * keys stays where they are used (src/tickets/keyring.ts, src/issuance/signers.ts), once per isolate.
 */

// ---- formats ------------------------------------------------------------------------------------------

/** Unset and empty are the same; a number (an unquoted wrangler.toml value) is read as its text. */
const absentIfEmpty = (v: unknown): unknown => (v === "" || v === null ? undefined : typeof v === "number" ? String(v) : v);

/** A variable with a default: absent → `fallback`; present → must satisfy `schema`. */
function withDefault<T>(schema: z.ZodType<T>, fallback: T) {
  return z.preprocess(absentIfEmpty, schema.optional()).transform((v) => (v === undefined ? fallback : v));
}

/** An optional variable or secret: absent → undefined; present → must satisfy `schema`. */
function optional<T>(schema: z.ZodType<T>) {
  return z.preprocess(absentIfEmpty, schema.optional());
}

const text = z.string({ error: "must be a string" });

/** A whole number written in digits, within [min, max]. "1s", "1.5", "1e3" and " 10" are refused. */
function integer(min: number, max: number, unit = "") {
  const range = `a whole number from ${min} to ${max}${unit}`;
  return text
    .regex(/^\d{1,15}$/, `must be ${range}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be ${range}`).max(max, `must be ${range}`));
}

/** Milliseconds: up to a day (anything longer is a unit mistake). */
const DAY_MS = 86_400_000;
const milliseconds = (min: number) => integer(min, DAY_MS, " (milliseconds)");

const rateLimit = text.transform((v, ctx): RateLimitPolicy | null => {
  const policy = parsePolicy(v);
  if (policy === undefined) {
    ctx.addIssue({ code: "custom", message: 'must be "LIMIT/PERIOD_SECONDS" with both at least 1 (e.g. "120/60"), or "off"' });
    return z.NEVER;
  }
  return policy;
});

/** PUBLIC_ORIGIN: "https://host[:port]" (http too, for a LAN), a trailing slash tolerated; no path or query. */
const origin = text.transform((value, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // Refused below.
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== value.replace(/\/+$/, "").toLowerCase()) {
    ctx.addIssue({ code: "custom", message: "must be an origin such as https://permis.example.fr (no path, query or other scheme)" });
    return z.NEVER;
  }
  return url.origin;
});

const rooms = text.transform((value, ctx) => {
  const names = value
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = names.filter((name) => !RoomNameSchema.safeParse(name).success);
  if (bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `must be comma-separated room names (lowercase letters, digits, hyphens); ${bad.length} is not`,
    });
    return z.NEVER;
  }
  return names;
});

/** Text holding JSON of `schema`'s shape; `what` says the shape in the error. */
function json<T>(schema: z.ZodType<T>, what: string) {
  return text.transform((value, ctx) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `must be JSON: ${what}` });
      return z.NEVER;
    }
    if (!schema.safeParse(parsed).success) {
      ctx.addIssue({ code: "custom", message: `must be ${what}` });
      return z.NEVER;
    }
    return value;
  });
}

/** One ticket HMAC key: a kid and 32+ random bytes, base64url. */
export const HmacKeySchema = z.object({ kid: z.string().min(1), k: z.string().regex(/^[A-Za-z0-9_-]{43,}$/) });
/** One ES256 private JWK with its kid. */
export const EcPrivateJwkSchema = z.object({
  kid: z.string().min(1),
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});
const PublicJwksSchema = z.object({ keys: z.array(z.object({ kty: z.string().min(1) })).min(1) });
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const certificate = text.regex(PEM_CERTIFICATE, "must be a PEM certificate (-----BEGIN CERTIFICATE-----)");

// ---- the schema ---------------------------------------------------------------------------------------

const rateLimitVariables = Object.fromEntries(
  (Object.keys(DEFAULT_RATE_LIMITS) as LimitScope[]).map((scope) => [
    `RATE_LIMIT_${scope.toUpperCase()}`,
    withDefault(rateLimit, DEFAULT_RATE_LIMITS[scope]),
  ]),
) as Record<LimitVariable, ReturnType<typeof withDefault<RateLimitPolicy | null>>>;

/** The Worker variables (wrangler.toml [vars]), each with its default when unset. */
export const VariablesSchema = z.object({
  /** "development" switches on the development kit (only in a build from src/dev/index.ts). */
  ENVIRONMENT: withDefault(
    text.regex(/^[a-z][a-z0-9-]{0,31}$/, "must be a lowercase name such as production or development"),
    "production",
  ),
  PUBLIC_ORIGIN: optional(origin),
  DEFAULT_ROOMS: withDefault(rooms, []),
  ADMISSION_TICK_MS: withDefault(milliseconds(1), 1_000),
  SNAPSHOT_TTL_MS: withDefault(milliseconds(1), 1_000),
  // One per key proof in a credential request; far above any wallet's batch, far below a flood.
  CREDENTIAL_BATCH_SIZE: withDefault(integer(1, 100), 1),
  REGISTER_MAX_CONCURRENCY: withDefault(integer(1, 1_000), 8),
  REGISTER_QUEUE_TIMEOUT_MS: withDefault(milliseconds(0), 250),
  REGISTER_READ_TIMEOUT_MS: withDefault(milliseconds(1), 5_000),
  REGISTER_LATENCY_MS: withDefault(milliseconds(0), 40),
  DURABLE_CALL_TIMEOUT_MS: withDefault(milliseconds(1), 5_000),
  LOG_REQUESTS: withDefault(z.enum(["errors", "all"], { error: 'must be "errors" or "all"' }), "all"),
  ...rateLimitVariables,
  POW_FLOOR_BITS: withDefault(integer(0, MAX_POW_BITS, " (bits)"), DEFAULT_POW_POLICY.floorBits),
  POW_CEILING_BITS: withDefault(integer(0, MAX_POW_BITS, " (bits)"), DEFAULT_POW_POLICY.ceilingBits),
  POW_BUSY_ARRIVALS_PER_SECOND: withDefault(
    text
      .regex(/^\d{1,12}(\.\d{1,6})?$/, "must be a positive number of arrivals per second (e.g. 20 or 0.5)")
      .transform(Number)
      .pipe(z.number().positive("must be a positive number of arrivals per second (e.g. 20 or 0.5)")),
    DEFAULT_POW_POLICY.busyArrivalsPerSecond,
  ),
  /** The audience identity assertions must be minted for. */
  IDENTITY_AUDIENCE: withDefault(text.min(1), "antichambre"),
  /**
   * Seconds a Status List Token may be cached (its `ttl` claim and the Cache-Control max-age it is
   * served with): the longest a suspension or revocation takes to reach verifiers.
   */
  STATUS_LIST_TTL_SECONDS: withDefault(integer(1, 86_400, " (seconds)"), 300),
  /** "required": refuse identity assertions not bound to the joining device's key (cnf.jkt). */
  IDENTITY_BINDING: withDefault(z.enum(["optional", "required"], { error: 'must be "optional" or "required"' }), "optional"),
});

/** The secrets (`wrangler secret put`; `npm run keys` makes them): all optional here, formats checked. */
export const SecretsSchema = z.object({
  ADMIN_TOKEN: optional(text),
  TICKET_KEYS: optional(json(z.array(HmacKeySchema).min(1), 'a non-empty array of {"kid", "k"} (k: 32+ bytes, base64url)')),
  SIGNING_KEYS: optional(json(z.array(EcPrivateJwkSchema).min(1), "a non-empty array of ES256 (P-256) private JWKs, each with a kid")),
  PSEUDONYM_KEY: optional(text.min(32, "must be at least 32 characters (npm run keys makes 32 random bytes, base64url)")),
  IDENTITY_JWKS: optional(json(PublicJwksSchema, 'a JWK set {"keys": [...]} with at least one key')),
  IDENTITY_ISSUER: optional(text.regex(/^https?:\/\/\S+$/, "must be the identity service's issuer URL")),
  MDOC_DS_KEY: optional(json(EcPrivateJwkSchema, "the Document Signer's ES256 (P-256) private JWK with its kid")),
  MDOC_DS_CERT: optional(certificate),
  IACA_CERT: optional(certificate),
  /** The status list signer (src/status/status-signer.ts): its own key and IACA-signed certificate. */
  STATUS_LIST_KEY: optional(json(EcPrivateJwkSchema, "the status list signer's ES256 (P-256) private JWK with its kid")),
  STATUS_LIST_CERT: optional(certificate),
});

export type VariableName = keyof typeof VariablesSchema.shape;
export type SecretName = keyof typeof SecretsSchema.shape;
export const SECRET_NAMES = Object.keys(SecretsSchema.shape) as SecretName[];

const SettingsSchema = VariablesSchema.extend(SecretsSchema.shape);
type Parsed = z.output<typeof SettingsSchema>;

// ---- the settings object ------------------------------------------------------------------------------

export interface Settings {
  readonly environment: string;
  /** ENVIRONMENT is "development" (the development kit acts only in a build from src/dev/index.ts). */
  readonly development: boolean;
  /** The issuer's public origin, normalised (no trailing slash); undefined when unset. */
  readonly publicOrigin: string | undefined;
  readonly defaultRooms: readonly string[];
  readonly admissionTickMs: number;
  readonly snapshotTtlMs: number;
  readonly credentialBatchSize: number;
  readonly register: {
    readonly maxConcurrency: number;
    readonly queueTimeoutMs: number;
    readonly readTimeoutMs: number;
    readonly latencyMs: number;
  };
  readonly durableCallTimeoutMs: number;
  readonly logRequests: "errors" | "all";
  /** Per scope; null when its variable says "off". */
  readonly rateLimits: Readonly<Record<LimitScope, RateLimitPolicy | null>>;
  readonly pow: PowPolicy;
  readonly identity: { readonly audience: string; readonly binding: "optional" | "required" };
  readonly statusListTtlSeconds: number;
  /** The secrets this deployment has (format-checked); absent ones are undefined. */
  readonly secrets: Readonly<Partial<Record<SecretName, string>>>;
}

function toSettings(p: Parsed): Settings {
  const rateLimits = Object.fromEntries(
    (Object.keys(DEFAULT_RATE_LIMITS) as LimitScope[]).map((scope) => [
      scope,
      p[`RATE_LIMIT_${scope.toUpperCase() as Uppercase<LimitScope>}`],
    ]),
  ) as Record<LimitScope, RateLimitPolicy | null>;
  const secrets: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) if (p[name] !== undefined) secrets[name] = p[name];
  return {
    environment: p.ENVIRONMENT,
    development: p.ENVIRONMENT === "development",
    publicOrigin: p.PUBLIC_ORIGIN,
    defaultRooms: p.DEFAULT_ROOMS,
    admissionTickMs: p.ADMISSION_TICK_MS,
    snapshotTtlMs: p.SNAPSHOT_TTL_MS,
    credentialBatchSize: p.CREDENTIAL_BATCH_SIZE,
    register: {
      maxConcurrency: p.REGISTER_MAX_CONCURRENCY,
      queueTimeoutMs: p.REGISTER_QUEUE_TIMEOUT_MS,
      readTimeoutMs: p.REGISTER_READ_TIMEOUT_MS,
      latencyMs: p.REGISTER_LATENCY_MS,
    },
    durableCallTimeoutMs: p.DURABLE_CALL_TIMEOUT_MS,
    logRequests: p.LOG_REQUESTS,
    rateLimits,
    pow: {
      floorBits: p.POW_FLOOR_BITS,
      ceilingBits: p.POW_CEILING_BITS,
      busyArrivalsPerSecond: p.POW_BUSY_ARRIVALS_PER_SECOND,
      busyBits: DEFAULT_POW_POLICY.busyBits,
    },
    identity: { audience: p.IDENTITY_AUDIENCE, binding: p.IDENTITY_BINDING },
    statusListTtlSeconds: p.STATUS_LIST_TTL_SECONDS,
    secrets,
  };
}

/** The variables and secrets of an env; bindings (namespaces, D1, limiters) are not read here. */
export type SettingsSource = object;

const memo = new WeakMap<SettingsSource, Settings>();

/**
 * The validated settings of `env`, parsed once per env object (an isolate's env, or a test's copy).
 * Throws ConfigError listing every bad variable; a bad env is not memoised, so each request re-reports it.
 */
export function settingsOf(env: SettingsSource): Settings {
  let settings = memo.get(env);
  if (settings) return settings;
  const result = SettingsSchema.safeParse(env);
  if (!result.success) throw new ConfigError(problemsOf(result.error));
  settings = toSettings(result.data);
  memo.set(env, settings);
  return settings;
}

/** One problem per variable name (its first issue), in schema order. */
function problemsOf(error: z.ZodError): ConfigProblem[] {
  const byName = new Map<string, string>();
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? "env");
    if (!byName.has(name)) byName.set(name, issue.message);
  }
  return [...byName].map(([name, reason]) => ({ name, reason }));
}

/** A secret this request cannot do without: a deployment lacking it answers 503 not-configured. */
export function required(env: SettingsSource, name: SecretName): string {
  const value = settingsOf(env).secrets[name];
  if (value === undefined) throw new ConfigError([{ name, reason: "is not set" }], `${name} is not configured on this deployment`);
  return value;
}

/** A secret, or undefined when this deployment lacks it (never a default: see src/dev/secrets.ts). */
export function secret(env: SettingsSource, name: SecretName): string | undefined {
  return settingsOf(env).secrets[name];
}
