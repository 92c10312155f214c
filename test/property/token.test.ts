import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORIGIN, testClock } from "../helpers/api";
import { serverDpopNonce } from "../helpers/dpop-nonce";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { bend, bent, heldName, heldTokens, thumbprint, ticketId, type Bend, type HeldName } from "./support/held";
import { contentType, percentEncode, type RawBody } from "./support/hostile";
import { printTally, Watcher } from "./support/probe";
import { formText, headers as noiseHeaders, body as anyBody } from "./support/requests";
import { ANYWHERE } from "./support/routes";
import { intact, makeKeys, materialize, sealedRecipe, tokenRecipe, type Keys, type TokenRecipe } from "./support/tokens";
import { legitimateFollowUps, makeWorld, type World } from "./support/world";

/**
 * POST /token (pre-authorized code grant, DPoP): hostile forms, codes that are bent, foreign or forged
 * with the real key around bent claims, and DPoP proofs of every shape. The world's unused code is only
 * ever sent with a proof by another key, or bent: so nothing here may redeem it, and the follow-up
 * redemption at the end proves nothing did.
 */
let world: World;
let keys: Keys;
let held: Record<HeldName, string>;
let redeemableTid: string;
let holderJkt: string;

beforeAll(async () => {
  captureLogs();
  world = await makeWorld();
  keys = await makeKeys(world.redeemable.device);
  held = await heldTokens(world);
  redeemableTid = ticketId(world.redeemable.ticket);
  holderJkt = await thumbprint(world.redeemable.device.publicJwk);
  console.log(`token properties: fast-check seed ${SEED}`);
});
afterAll(() => {
  printTally("token answers");
  releaseLogs();
});

const now = () => Math.floor(testClock.now() / 1000);
const GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

const DPOP_MEMBERS = {
  htm: ['"GET"', '"post"'],
  htu: ['"http://antichambre.test/credential"', '"http://antichambre.test/token/"', '"https://antichambre.test/token"'],
  iat: ["-0", "1e309", '"1"', "0"],
  jti: ['"x"', "12345678", '""'],
};

/** Claims for codes sealed with the real key (an insider's forgery): the claim checks must hold. */
function codeClaims(room: string, jkt: string): Record<string, readonly string[]> {
  return {
    room: [JSON.stringify(room), '"nope"', "1", '""'],
    tid: ['"0.999999"', "1", '""', "null", '"__proto__"'],
    ord: ["[0,0]", '"x"', "[1e309,0]", "null", "[-1,-1]", "[9007199254740993,0]", "[]"],
    pid: ['"FR-000001"', "1", '""'],
    jkt: [JSON.stringify(jkt), '"x"', "null"],
    handoff: ["true", "false", '"yes"'],
  };
}

interface TokenCase {
  form:
    | {
        kind: "fields";
        grant: string | null;
        code: { kind: "held"; which: HeldName; bend: Bend } | { kind: "forged"; recipe: TokenRecipe } | null;
        tx: string | null;
        extra: [string, string][];
      }
    | { kind: "raw"; raw: RawBody };
  contentType: string | null;
  dpop: TokenRecipe | null;
  byHolder: boolean;
  noise: [string, string][];
}

const tokenCase = (room: string, jkt: string): fc.Arbitrary<TokenCase> =>
  fc.record({
    form: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("fields" as const),
          grant: fc.oneof(
            { weight: 12, arbitrary: fc.constant(GRANT) },
            fc.constant(null),
            fc.constantFrom("authorization_code", "password", GRANT.toUpperCase(), `${GRANT} `, ""),
          ),
          code: fc.oneof(
            { weight: 3, arbitrary: fc.record({ kind: fc.constant("held" as const), which: heldName, bend }) },
            {
              weight: 3,
              arbitrary: fc.record({
                kind: fc.constant("forged" as const),
                recipe: fc.oneof(
                  sealedRecipe(
                    ["pre-authorized-code", "pre-authorized-code", "access-token", "c-nonce"],
                    { room, tid: "0.999999", ord: [0, 1], pid: "FR-000001", jkt },
                    codeClaims(room, jkt),
                  ),
                  tokenRecipe({ a: ["1"] }),
                ),
              }),
            },
            fc.constant(null),
          ),
          tx: fc.oneof(
            { weight: 6, arbitrary: fc.constant(null) },
            fc.stringMatching(/^\d{6}$/),
            fc.constantFrom("", "1234567", "abcdef", "%00"),
          ),
          extra: fc.oneof(
            { weight: 4, arbitrary: fc.constant<[string, string][]>([]) },
            fc.array(
              fc.tuple(
                fc.constantFrom("grant_type", "pre-authorized_code", "__proto__", "client_id", "scope"),
                fc.constantFrom("x", GRANT, ""),
              ),
              { maxLength: 2 },
            ),
          ),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("raw" as const), raw: fc.oneof(formText, anyBody) }) },
    ),
    contentType: fc.oneof({ weight: 12, arbitrary: fc.constant("application/x-www-form-urlencoded") }, fc.constant(null), contentType),
    dpop: fc.oneof({ weight: 6, arbitrary: fc.constant(intact()) }, fc.constant(null), { weight: 3, arbitrary: tokenRecipe(DPOP_MEMBERS) }),
    byHolder: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
    noise: fc.oneof(
      { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
      noiseHeaders.map((h) => h.filter(([k]) => k !== "content-type" && k !== "dpop")),
    ),
  });

const TOKEN = { allowed: [200, 400, 413, 429, ...ANYWHERE] };

describe("POST /token", () => {
  it("refuses every bent, foreign or forged grant cleanly, and a refusal redeems nothing", async () => {
    const watcher = new Watcher([world.room, world.other], { shards: false });
    await fc.assert(
      fc.asyncProperty(tokenCase(world.room.name, holderJkt), async (c) => {
        let body: RawBody;
        // The world's unused code, intact, only ever travels with a proof by a key it is not bound to.
        let byHolder = c.byHolder;
        if (c.form.kind === "fields") {
          const code =
            c.form.code === null
              ? null
              : c.form.code.kind === "held"
                ? bent(held[c.form.code.which], c.form.code.bend)
                : await materialize(c.form.code.recipe, { header: {}, payload: {} }, keys, testClock.now());
          if (code === held.code) byHolder = false;
          const fields: [string, string][] = [];
          if (c.form.grant !== null) fields.push(["grant_type", c.form.grant]);
          if (code !== null) fields.push(["pre-authorized_code", code]);
          if (c.form.tx !== null) fields.push(["tx_code", c.form.tx]);
          body = [...fields, ...c.form.extra].map(([k, v]) => `${k}=${percentEncode(v)}`).join("&");
        } else body = c.form.raw;
        const device = byHolder ? world.redeemable.device : keys.stranger;
        const base = {
          header: { typ: "dpop+jwt", jwk: device.publicJwk },
          payload: { htm: "POST", htu: `${ORIGIN}/token`, iat: now(), jti: crypto.randomUUID(), nonce: await serverDpopNonce() },
        };
        const headers: [string, string][] = [...c.noise];
        if (c.contentType !== null) headers.push(["content-type", c.contentType]);
        if (c.dpop !== null) headers.push(["dpop", await materialize(c.dpop, base, { ...keys, device }, testClock.now())]);
        const answer = await watcher.send({ method: "POST", path: "/token", headers, body }, TOKEN, { allowDpopJti: true });
        // An insider's forged code may open a session for a made-up ticket id: that is success, not a leak.
        if (answer.status === 200) watcher.forget();
        // By hand: the world's unused code is never redeemed here (a 200 would be a forged code's).
        if (answer.status === 200) expect(answer.text).not.toContain(redeemableTid);
        if (c.contentType !== null && !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.contentType) && !oversized(answer.status)) {
          expect(answer.problem?.type).toBe("urn:antichambre:problem:invalid-request");
        }
      }),
      params(RUNS.token),
    );
  });

  it("leaves every secret of the world usable", async () => {
    await legitimateFollowUps(world);
  });
});
