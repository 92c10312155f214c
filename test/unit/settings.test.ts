import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, type LimitScope } from "../../src/config/abuse-config";
import { ConfigError } from "../../src/config/config-error";
import { required, secret, settingsOf } from "../../src/config/settings";
import { DEV_SECRETS } from "../../src/dev/secrets";

/**
 * src/config/settings.ts: every variable and secret validated at once. An operator's typo must be named,
 * never replaced by a default, and several typos must all be named in one answer.
 */

/** The ConfigError `env` throws (the test fails if it parses). */
function configError(env: Record<string, unknown>): ConfigError {
  try {
    settingsOf(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

const names = (e: ConfigError) => e.problems.map((p) => p.name);

/** Each variable, some forms that used to slip through (or that must never), and one good form. */
const BAD: Record<string, { bad: unknown[]; good: string }> = {
  ENVIRONMENT: { bad: ["Production!", "DEVELOPMENT", "dev elopment"], good: "staging" },
  PUBLIC_ORIGIN: {
    bad: ["https://permis.example.fr/issuer", "https://permis.example.fr?x=1", "ftp://permis.example.fr", "permis.example.fr", "https://"],
    good: "https://permis.example.fr/",
  },
  DEFAULT_ROOMS: { bad: ["permis,Permis", "permis;examen", "a/b"], good: " permis , examen " },
  ADMISSION_TICK_MS: { bad: ["1s", "1.5", "1e3", "-1", "0", " 10", "0x10", "100000000000", 1.5], good: "250" },
  SNAPSHOT_TTL_MS: { bad: ["1s", "0", "-5", "abc"], good: "2000" },
  CREDENTIAL_BATCH_SIZE: { bad: ["0", "four", "101", "4.0"], good: "4" },
  REGISTER_MAX_CONCURRENCY: { bad: ["0", "zero", "-1", "1001"], good: "3" },
  REGISTER_QUEUE_TIMEOUT_MS: { bad: ["-1", "250ms", "1.5"], good: "0" },
  REGISTER_READ_TIMEOUT_MS: { bad: ["0", "5s"], good: "200" },
  REGISTER_LATENCY_MS: { bad: ["-5", "40ms"], good: "0" },
  DURABLE_CALL_TIMEOUT_MS: { bad: ["0", "5s", "∞"], good: "300" },
  LOG_REQUESTS: { bad: ["error", "ALL", "none", "true"], good: "errors" },
  POW_FLOOR_BITS: { bad: ["-1", "25", "8.5", "eight"], good: "8" },
  POW_CEILING_BITS: { bad: ["-1", "99", "sixteen"], good: "0" },
  POW_BUSY_ARRIVALS_PER_SECOND: { bad: ["0", "-3", "fast", "1e3", "Infinity"], good: "0.05" },
  IDENTITY_AUDIENCE: { bad: [42n], good: "permis-app" },
  IDENTITY_BINDING: { bad: ["Required", "yes", "strict"], good: "required" },
  ADMIN_TOKEN: { bad: [{ token: "x" }], good: "t" },
  TICKET_KEYS: { bad: ["not json", "[]", '[{"kid":"a","k":"short"}]', '{"kid":"a"}'], good: DEV_SECRETS.TICKET_KEYS },
  SIGNING_KEYS: { bad: ["[", "[]", '[{"kid":"a","kty":"RSA"}]', DEV_SECRETS.TICKET_KEYS], good: DEV_SECRETS.SIGNING_KEYS },
  PSEUDONYM_KEY: { bad: ["short-key"], good: DEV_SECRETS.PSEUDONYM_KEY },
  IDENTITY_JWKS: { bad: ["{", '{"keys":[]}', "[]"], good: DEV_SECRETS.IDENTITY_JWKS },
  IDENTITY_ISSUER: { bad: ["identite", "ftp://x"], good: "https://identite.example.fr" },
  MDOC_DS_KEY: { bad: ["{}", "pem?", DEV_SECRETS.SIGNING_KEYS], good: DEV_SECRETS.MDOC_DS_KEY },
  MDOC_DS_CERT: { bad: ["MIIB...", DEV_SECRETS.MDOC_DS_KEY], good: DEV_SECRETS.MDOC_DS_CERT },
  IACA_CERT: { bad: ["-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"], good: DEV_SECRETS.IACA_CERT },
  STATUS_LIST_KEY: { bad: ["{}", DEV_SECRETS.SIGNING_KEYS], good: DEV_SECRETS.STATUS_LIST_KEY },
  STATUS_LIST_CERT: { bad: ["MIIB...", DEV_SECRETS.STATUS_LIST_KEY], good: DEV_SECRETS.STATUS_LIST_CERT },
  STATUS_LIST_TTL_SECONDS: { bad: ["0", "5m", "86401"], good: "60" },
};
for (const scope of Object.keys(DEFAULT_RATE_LIMITS) as LimitScope[]) {
  BAD[`RATE_LIMIT_${scope.toUpperCase()}`] = { bad: ["0/60", "10/0", "ten/60", "10", "10 per 60", "1e3/60", "none"], good: "5/10" };
}

describe("settingsOf: bad variables are named, never replaced by defaults", () => {
  it("names each variable's bad forms, each with a reason", () => {
    for (const [name, { bad }] of Object.entries(BAD)) {
      for (const value of bad) {
        const e = configError({ [name]: value });
        expect(names(e), `${name}=${String(value)}`).toEqual([name]);
        expect(e.problems[0]!.reason.length).toBeGreaterThan(5);
      }
    }
  });

  it("lists every bad variable of an env at once, and nothing good among them", () => {
    const e = configError({
      ADMISSION_TICK_MS: "1s",
      RATE_LIMIT_POLL: "lots",
      LOG_REQUESTS: "verbose",
      TICKET_KEYS: "[]",
      SNAPSHOT_TTL_MS: "500",
      PUBLIC_ORIGIN: "https://permis.example.fr",
    });
    expect(new Set(names(e))).toEqual(new Set(["ADMISSION_TICK_MS", "RATE_LIMIT_POLL", "LOG_REQUESTS", "TICKET_KEYS"]));
    for (const name of names(e)) expect(e.message).toContain(name);
  });

  it("a secret's bad value is never in the error (only its name)", () => {
    const leaked = "super-secret-admin-token-that-is-not-json";
    const e = configError({ TICKET_KEYS: leaked, ADMIN_TOKEN: leaked, SIGNING_KEYS: `[${leaked}` });
    expect(names(e).sort()).toEqual(["SIGNING_KEYS", "TICKET_KEYS"]);
    expect(JSON.stringify(e.problems) + e.message).not.toContain("super-secret");
  });

  it("reads every good form", () => {
    const env = Object.fromEntries(Object.entries(BAD).map(([name, { good }]) => [name, good]));
    const s = settingsOf(env);
    expect(s).toMatchObject({
      environment: "staging",
      development: false,
      publicOrigin: "https://permis.example.fr",
      defaultRooms: ["permis", "examen"],
      admissionTickMs: 250,
      snapshotTtlMs: 2000,
      credentialBatchSize: 4,
      register: { maxConcurrency: 3, queueTimeoutMs: 0, readTimeoutMs: 200, latencyMs: 0 },
      durableCallTimeoutMs: 300,
      logRequests: "errors",
      pow: { floorBits: 8, ceilingBits: 0, busyArrivalsPerSecond: 0.05 },
      identity: { audience: "permis-app", binding: "required" },
      statusListTtlSeconds: 60,
    });
    for (const scope of Object.keys(DEFAULT_RATE_LIMITS) as LimitScope[])
      expect(s.rateLimits[scope]).toEqual({ limit: 5, periodSeconds: 10 });
    for (const name of Object.keys(DEV_SECRETS) as (keyof typeof DEV_SECRETS)[]) expect(secret(env, name)).toBe(BAD[name]!.good);
    expect(settingsOf({ RATE_LIMIT_POLL: "OFF", ADMISSION_TICK_MS: 1000 }).rateLimits.poll).toBeNull();
    expect(settingsOf({ ADMISSION_TICK_MS: 1000 }).admissionTickMs).toBe(1000); // an unquoted wrangler.toml number
    // What the benchmark sets (tools/bench/runtime.mjs): ceilings no load reaches are still valid.
    const bench = settingsOf({ RATE_LIMIT_POLL: "999999999/1", POW_BUSY_ARRIVALS_PER_SECOND: "1000000000" });
    expect(bench.rateLimits.poll).toEqual({ limit: 999_999_999, periodSeconds: 1 });
    expect(bench.pow.busyArrivalsPerSecond).toBe(1e9);
  });

  it("keeps today's defaults for unset (or empty) variables, and has no secret it was not given", () => {
    for (const env of [{}, Object.fromEntries(Object.keys(BAD).map((name) => [name, ""]))]) {
      const s = settingsOf(env);
      expect(s).toMatchObject({
        environment: "production",
        development: false,
        publicOrigin: undefined,
        defaultRooms: [],
        admissionTickMs: 1000,
        snapshotTtlMs: 1000,
        credentialBatchSize: 1,
        register: { maxConcurrency: 8, queueTimeoutMs: 250, readTimeoutMs: 5000, latencyMs: 40 },
        durableCallTimeoutMs: 5000,
        logRequests: "all",
        pow: { floorBits: 0, ceilingBits: 16, busyArrivalsPerSecond: 20, busyBits: 10 },
        identity: { audience: "antichambre", binding: "optional" },
      });
      expect(s.secrets).toEqual({});
      expect(s.rateLimits).toEqual(DEFAULT_RATE_LIMITS);
      expect(() => required(env, "TICKET_KEYS")).toThrow(ConfigError);
      expect(() => required(env, "TICKET_KEYS")).toThrow("TICKET_KEYS is not configured on this deployment");
    }
  });

  it("parses once per env object, and re-reports a bad env every time", () => {
    const env = { ADMISSION_TICK_MS: "500" };
    expect(settingsOf(env)).toBe(settingsOf(env));
    expect(settingsOf({ ...env })).not.toBe(settingsOf(env));
    const bad = { ADMISSION_TICK_MS: "1s" };
    expect(() => settingsOf(bad)).toThrow(ConfigError);
    expect(() => settingsOf(bad)).toThrow(/ADMISSION_TICK_MS/);
  });
});
