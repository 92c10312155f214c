import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessTokenHash } from "../../src/auth/dpop";
import { ORIGIN, testClock } from "../helpers/api";
import { MDOC, SD_JWT, nonce } from "../helpers/wallet";
import { serverDpopNonce } from "../helpers/dpop-nonce";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { bend, bent, heldName, heldTokens, nonceKey, type Bend, type HeldName } from "./support/held";
import { contentType, jsonBodyText, jsonValueText, objectText, type RawBody } from "./support/hostile";
import { printTally, probe, Watcher, type Spec } from "./support/probe";
import { authorization, headers as noiseHeaders } from "./support/requests";
import { ANYWHERE } from "./support/routes";
import { freshDevice, intact, makeKeys, materialize, sealedRecipe, tokenRecipe, type Keys, type TokenRecipe } from "./support/tokens";
import { legitimateFollowUps, makeWorld, type World } from "./support/world";

/**
 * POST /credential, /notification and /nonce: hostile access tokens and DPoP proofs, credential requests
 * with bent key proofs (other keys, audiences, types, stale, alg none, private keys, two proofs by one
 * key) around fresh c_nonces, and notifications with bent ids. Each run's fresh c_nonces are watched in
 * the ReplayGuard: a refused request must leave every one of them unused.
 */
let world: World;
let keys: Keys;
let held: Record<HeldName, string>;

beforeAll(async () => {
  captureLogs();
  world = await makeWorld();
  keys = await makeKeys(world.issued.device);
  held = await heldTokens(world);
  console.log(`credential properties: fast-check seed ${SEED}`);
});
afterAll(() => {
  printTally("credential, notification and nonce answers");
  releaseLogs();
});

const now = () => Math.floor(testClock.now() / 1000);

const DPOP_MEMBERS = {
  htm: ['"GET"', '"post"'],
  htu: ['"http://antichambre.test/token"', '"http://antichambre.test/notification"'],
  iat: ["-0", "1e309", "0"],
  jti: ['"x"', '""'],
  ath: ['"x"', '""', "null", '"47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"'],
};
const PROOF_MEMBERS = {
  aud: ['"https://elsewhere.example"', "[]", '["http://antichambre.test"]', '"http://antichambre.test/"', "null"],
  iat: ["-0", "1e309", "0", '"now"'],
  nonce: ['""', "1", "null", '{"a":1}'],
};
const PROOF_HEADER = { typ: ['"JWT"', '"dpop+jwt"', '"openid4vci-proof+JWT"', "null"] };

type NonceChoice = "fresh1" | "fresh2" | "random" | "bent";
interface ProofCase {
  recipe: TokenRecipe;
  nonce: NonceChoice;
  sameKeyAsFirst: boolean;
}

interface AuthCase {
  token:
    | { kind: "access"; bend: Bend }
    | { kind: "held"; which: HeldName; bend: Bend }
    | { kind: "forged"; recipe: TokenRecipe }
    | { kind: "header"; value: string };
  scheme: string;
  dpop: TokenRecipe | null;
}

const authCase = (room: string): fc.Arbitrary<AuthCase> =>
  fc.record({
    token: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constant("access" as const),
          bend: fc.oneof({ weight: 6, arbitrary: fc.constant<Bend>("none") }, bend),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("held" as const), which: heldName, bend }) },
      // Access tokens sealed with the real key around bent claims (an insider's): never a 500.
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("forged" as const),
          recipe: sealedRecipe(
            ["access-token"],
            { pid: "FR-000002", jkt: "x", room, tid: "0.999999" },
            { pid: ["1", '""', '"FR-999999"'], room: ['"nope"', "1"], tid: ["1", "null"], jkt: ["null", "1"] },
          ),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("header" as const), value: authorization }) },
    ),
    scheme: fc.oneof({ weight: 8, arbitrary: fc.constant("DPoP ") }, fc.constantFrom("Bearer ", "dpop ", "DPoP  ", "")),
    dpop: fc.oneof({ weight: 6, arbitrary: fc.constant(intact()) }, fc.constant(null), { weight: 3, arbitrary: tokenRecipe(DPOP_MEMBERS) }),
  });

async function authHeaders(a: AuthCase, path: string): Promise<{ headers: [string, string][]; accessIntact: boolean }> {
  let token: string | null = null;
  if (a.token.kind === "access") token = bent(held.access, a.token.bend);
  if (a.token.kind === "held") token = bent(held[a.token.which], a.token.bend);
  if (a.token.kind === "forged") token = await materialize(a.token.recipe, { header: {}, payload: {} }, keys, testClock.now());
  const headers: [string, string][] = [["authorization", token === null ? (a.token as { value: string }).value : `${a.scheme}${token}`]];
  const ath = await accessTokenHash(token ?? "");
  const base = {
    header: { typ: "dpop+jwt", jwk: world.issued.device.publicJwk },
    payload: { htm: "POST", htu: `${ORIGIN}${path}`, iat: now(), jti: crypto.randomUUID(), ath, nonce: await serverDpopNonce() },
  };
  if (a.dpop !== null) headers.push(["dpop", await materialize(a.dpop, base, keys, testClock.now())]);
  return { headers, accessIntact: token === held.access && a.scheme === "DPoP " };
}

interface CredentialCase {
  auth: AuthCase;
  body:
    | { kind: "request"; configuration: string; proofs: ProofCase[]; extra: [string, string][]; proofsExtra: [string, string][] }
    | { kind: "raw"; raw: RawBody };
  contentType: string | null;
  noise: [string, string][];
}

/**
 * Depth first: most runs bend one part of an otherwise valid request (so the check of that part is
 * reached: a bent proof behind a valid token, a bad nonce behind valid proofs), some bend several.
 */
type Part =
  | "auth"
  | "dpop"
  | "contentType"
  | "raw"
  | "configuration"
  | "count"
  | "proof"
  | "nonce"
  | "sameKey"
  | "extra"
  | "noise"
  | "several"
  | "none";

const credentialCase = (room: string): fc.Arbitrary<CredentialCase> =>
  fc
    .constantFrom<Part>(
      "auth",
      "dpop",
      "contentType",
      "raw",
      "configuration",
      "count",
      "proof",
      "nonce",
      "nonce",
      "nonce",
      "sameKey",
      "extra",
      "noise",
      "several",
      "none",
    )
    .chain((part) => {
      const bendIf = <T>(parts: Part[], valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
        parts.includes(part) ? hostile : part === "several" ? fc.oneof(valid, hostile) : valid;
      const validAuth = fc.constant<AuthCase>({ token: { kind: "access", bend: "none" }, scheme: "DPoP ", dpop: intact() });
      const auth = authCase(room);
      const proof = (bentRecipe: boolean, bentNonce: boolean, sameKey: boolean): fc.Arbitrary<ProofCase> =>
        fc.record({
          recipe: bentRecipe ? tokenRecipe(PROOF_MEMBERS, PROOF_HEADER) : fc.constant(intact()),
          nonce: bentNonce ? fc.constantFrom<NonceChoice>("fresh1", "fresh2", "random", "bent") : fc.constant<NonceChoice>("fresh1"),
          sameKeyAsFirst: sameKey ? fc.boolean() : fc.constant(false),
        });
      const proofs = fc
        .integer({ min: 1, max: 4 })
        .chain((n) =>
          fc.tuple(
            ...Array.from({ length: n }, () =>
              proof(
                part === "proof" || (part === "several" && n > 0),
                part === "nonce" || part === "several",
                part === "sameKey" || part === "several",
              ),
            ),
          ),
        );
      return fc.record({
        auth:
          part === "auth"
            ? auth.map((a) => ({ ...a, dpop: intact() }))
            : part === "dpop"
              ? auth.map((a) => ({ ...a, token: { kind: "access" as const, bend: "none" as Bend }, scheme: "DPoP " }))
              : part === "several"
                ? auth
                : validAuth,
        body:
          part === "raw"
            ? fc.record({ kind: fc.constant("raw" as const), raw: jsonBodyText(["credential_configuration_id", "proofs", "jwt"]) })
            : fc.record({
                kind: fc.constant("request" as const),
                configuration: bendIf(
                  ["configuration"],
                  fc.constantFrom(MDOC, SD_JWT),
                  fc.constantFrom("fr.antichambre.nothing", "", "__proto__", MDOC.toUpperCase(), "x".repeat(201)),
                ),
                proofs: part === "count" ? fc.array(proof(false, false, false), { minLength: 0, maxLength: 7 }) : proofs.map((t) => [...t]),
                extra: bendIf(
                  ["extra"],
                  fc.constant<[string, string][]>([]),
                  fc.array(fc.tuple(fc.constantFrom("format", "__proto__", "proof", "credential_identifier"), jsonValueText), {
                    minLength: 1,
                    maxLength: 1,
                  }),
                ),
                proofsExtra: bendIf(
                  ["extra"],
                  fc.constant<[string, string][]>([]),
                  fc.array(fc.tuple(fc.constantFrom("cwt", "ldp_vp", "attestation", "__proto__"), jsonValueText), { maxLength: 1 }),
                ),
              }),
        contentType: bendIf(["contentType"], fc.constant("application/json"), fc.oneof(fc.constant(null), contentType)),
        noise: bendIf(
          ["noise"],
          fc.constant<[string, string][]>([]),
          noiseHeaders.map((h) => h.filter(([k]) => !["authorization", "dpop", "content-type"].includes(k))),
        ),
      });
    });

/** The request's body, and the c_nonces it was built around (to watch in the ReplayGuard). */
async function credentialBody(c: CredentialCase): Promise<{ body: RawBody; watched: string[] }> {
  if (c.body.kind === "raw") return { body: c.body.raw, watched: [] };
  const fresh = [await nonce(), await nonce()];
  const pick = (choice: NonceChoice) =>
    choice === "fresh1"
      ? fresh[0]!
      : choice === "fresh2"
        ? fresh[1]!
        : choice === "bent"
          ? bent(fresh[0]!, "signature")
          : crypto.randomUUID();
  const jwts: string[] = [];
  let first: Keys["device"] | null = null;
  for (const p of c.body.proofs) {
    const device: Keys["device"] = p.sameKeyAsFirst && first ? first : await freshDevice();
    first ??= device;
    const base = {
      header: { typ: "openid4vci-proof+jwt", jwk: device.publicJwk },
      payload: { aud: ORIGIN, iat: now(), nonce: pick(p.nonce) },
    };
    jwts.push(await materialize(p.recipe, base, { ...keys, device }, testClock.now()));
  }
  const proofs = objectText([["jwt", JSON.stringify(jwts)], ...c.body.proofsExtra]);
  const body = objectText([["credential_configuration_id", JSON.stringify(c.body.configuration)], ["proofs", proofs], ...c.body.extra]);
  return { body, watched: await Promise.all(fresh.map(nonceKey)) };
}

describe("POST /credential", () => {
  it("issues, or refuses cleanly without using up a c_nonce or reading the register", async () => {
    const watcher = new Watcher([world.room], { shards: false });
    await fc.assert(
      fc.asyncProperty(credentialCase(world.room.name), async (c) => {
        const { headers, accessIntact } = await authHeaders(c.auth, "/credential");
        const { body, watched } = await credentialBody(c);
        if (c.contentType !== null) headers.push(["content-type", c.contentType]);
        const spec: Spec = { method: "POST", path: "/credential", headers: [...c.noise, ...headers], body };
        const answer = await watcher.send(
          spec,
          { allowed: [200, 400, 401, 415, 503, ...ANYWHERE] },
          { replayKeys: watched, allowDpopJti: true },
        );
        // By hand: no access token in the DPoP scheme is 401 invalid-token, whatever else is wrong.
        if (c.auth.token.kind === "header" && !/^\s*DPoP [A-Za-z0-9\-._~+/]+=*\s*$/.test(c.auth.token.value) && !oversized(answer.status)) {
          expect(answer.status).toBe(401);
          expect(answer.problem?.type).toBe("urn:antichambre:problem:invalid-token");
        }
        // ...and with the token intact but no usable proof, 401 invalid-dpop-proof.
        if (
          accessIntact &&
          (c.auth.dpop === null || c.auth.dpop.kind === "raw" || c.auth.dpop.kind === "segments") &&
          !oversized(answer.status)
        ) {
          expect(answer.problem?.type).toBe("urn:antichambre:problem:invalid-dpop-proof");
        }
      }),
      params(RUNS.credential),
    );
  });
});

interface NotificationCase {
  auth: AuthCase;
  id: { kind: "held"; which: HeldName; bend: Bend } | { kind: "forged"; recipe: TokenRecipe } | { kind: "value"; value: string } | null;
  event: string | null;
  extra: [string, string][];
  raw: RawBody | null;
}

const notificationCase = (room: string): fc.Arbitrary<NotificationCase> =>
  fc.record({
    auth: authCase(room),
    id: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("held" as const),
          which: fc.oneof({ weight: 3, arbitrary: fc.constant<HeldName>("notification") }, heldName),
          bend,
        }),
      },
      // Notification ids sealed with the real key for another ticket or room: never this session's.
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("forged" as const),
          recipe: sealedRecipe(
            ["notification", "c-nonce"],
            { room, tid: "0.999999" },
            { room: ['"nope"', "1", "null"], tid: ["1", "null", '"0.0"'] },
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant("value" as const), value: fc.oneof(fc.string(), fc.constantFrom("", "x".repeat(4097))) }),
      },
      fc.constant(null),
    ),
    event: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("credential_accepted", "credential_failure", "credential_deleted") },
      fc.constant(null),
      fc.constantFrom("CREDENTIAL_ACCEPTED", "credential_revoked", "", "__proto__"),
    ),
    extra: fc.oneof(
      { weight: 4, arbitrary: fc.constant<[string, string][]>([]) },
      fc.array(fc.tuple(fc.constantFrom("event_description", "__proto__", "credential_id"), jsonValueText), { maxLength: 1 }),
    ),
    raw: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, jsonBodyText(["notification_id", "event", "event_description"])),
  });

describe("POST /notification", () => {
  it("refuses every bent, foreign or forged notification cleanly: the session stays open", async () => {
    const watcher = new Watcher([world.room], { shards: false });
    await fc.assert(
      fc.asyncProperty(notificationCase(world.room.name), async (c) => {
        const { headers } = await authHeaders(c.auth, "/notification");
        let id: string | null = null;
        if (c.id?.kind === "held") id = bent(held[c.id.which], c.id.bend);
        if (c.id?.kind === "forged") id = await materialize(c.id.recipe, { header: {}, payload: {} }, keys, testClock.now());
        if (c.id?.kind === "value") id = c.id.value;
        // The world's real id with a valid event would end the session (a success the follow-ups need
        // later): when it is intact, the body is always bent somewhere else.
        let event = c.event;
        if (id === held.notification && c.extra.length === 0 && c.raw === null && event !== null && event.startsWith("credential_"))
          event = "credential_accepted!";
        const members: [string, string][] = [];
        if (id !== null) members.push(["notification_id", JSON.stringify(id)]);
        if (event !== null) members.push(["event", JSON.stringify(event)]);
        const body = c.raw ?? objectText([...members, ...c.extra]);
        const spec: Spec = { method: "POST", path: "/notification", headers: [...headers, ["content-type", "application/json"]], body };
        const answer = await watcher.send(spec, { allowed: [204, 400, 401, 415, 503, ...ANYWHERE] }, { allowDpopJti: true });
        // A forged or foreign id never closes anything: only the world's own id could, and it is never sent so.
        if (answer.status === 204) expect(c.event === "credential_deleted" || id !== held.notification).toBe(true);
      }),
      params(RUNS.notification),
    );
  });
});

describe("POST /nonce", () => {
  it("hands out a c_nonce whatever the body and headers (within the size limits)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ body: jsonBodyText(["c_nonce"]), headers: noiseHeaders }), async ({ body, headers }) => {
        const answer = await probe({ method: "POST", path: "/nonce", headers, body }, { allowed: [200, ...ANYWHERE] });
        if (answer.status === 200) expect(typeof JSON.parse(answer.text).c_nonce).toBe("string");
      }),
      params(RUNS.nonce),
    );
  });
});

describe("afterwards", () => {
  it("every secret of the world is still usable", async () => {
    await legitimateFollowUps(world);
  });
});
