import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_IDENTITY_ISSUER, DEV_IDENTITY_KEY } from "../../src/config/dev-defaults";
import { ORIGIN, testClock } from "../helpers/api";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { contentType, jsonBodyText, jsonValueText, objectText, type RawBody } from "./support/hostile";
import { printTally, Watcher, type Spec } from "./support/probe";
import { headers as noiseHeaders, roomSegment } from "./support/requests";
import { ANYWHERE } from "./support/routes";
import { freshDevice, intact, makeKeys, materialize, tokenRecipe, type Keys, type TokenRecipe } from "./support/tokens";
import { legitimateFollowUps, makeWorld, type World } from "./support/world";

/**
 * POST /v1/rooms/{room}/tickets with hostile bodies, content types, DPoP proofs and identity assertions.
 * Many runs carry a valid proof and a valid assertion with one thing bent, so every layer of the join is
 * reached; the valid ones join (and may), the rest must be refused cleanly and take no place.
 */
let world: World;
let keys: Keys;

beforeAll(async () => {
  captureLogs();
  world = await makeWorld();
  keys = await makeKeys();
  console.log(`join properties: fast-check seed ${SEED}`);
});
afterAll(() => {
  printTally("join answers");
  releaseLogs();
});

const now = () => Math.floor(testClock.now() / 1000);

/** Near-miss values for the members of a DPoP proof (RFC 9449 section 4.2). */
const DPOP_MEMBERS = {
  htm: ['"GET"', '"post"', '"PUT"', '""', "null"],
  htu: [
    '"http://antichambre.test/v1/rooms/elsewhere/tickets"',
    '"https://antichambre.test/v1/rooms/x/tickets"',
    '"//antichambre.test"',
    '"not a url"',
    '""',
  ],
  iat: ["-0", "1e309", '"1"', "null", "0"],
  jti: ['"x"', `"${"j".repeat(300)}"`, "12345678", '""', '{"a":1}'],
  ath: ['"x"'],
};
const DPOP_HEADER = { typ: ['"JWT"', '"dpop+JWT"', '""', "null"], kid: ['"x"'] };

/** Near-miss values for an identity assertion's claims. */
const ASSERTION_MEMBERS = {
  iss: ['"https://evil.example"', '""', "null", `"${DEV_IDENTITY_ISSUER}/"`],
  sub: ['""', `"${"s".repeat(129)}"`, "123", "null", '"__proto__"', '"FR-000001"', '"\\u0000"'],
  aud: ['"someone-else"', '["antichambre","x"]', "[]", '"Antichambre"'],
  iat: ["-0", "1e309", '"now"', "0"],
  exp: ["0", "1e309", "-1", '"later"'],
};
const ASSERTION_HEADER = { kid: ['"rogue"', '""', "null", "1"], typ: ['"dpop+jwt"'] };

interface JoinCase {
  room: string;
  contentType: string | null;
  body: { kind: "assertion"; recipe: TokenRecipe; extra: [string, string][] } | { kind: "raw"; raw: RawBody };
  dpop: TokenRecipe | null;
  noise: [string, string][];
}

/** Depth first (as in credential.test.ts): most runs bend one part of an otherwise valid join. */
type Part = "room" | "contentType" | "raw" | "extra" | "dpop" | "assertion" | "noise" | "several" | "none";

function joinCase(rooms: readonly string[]): fc.Arbitrary<JoinCase> {
  const assertion = tokenRecipe(ASSERTION_MEMBERS, ASSERTION_HEADER, ["identity", "stranger", "hmac", "none", "garbage"]);
  return fc
    .constantFrom<Part>("room", "contentType", "raw", "extra", "dpop", "dpop", "assertion", "assertion", "noise", "several", "none")
    .chain((part) => {
      const bendIf = <T>(parts: Part[], valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
        parts.includes(part) ? hostile : part === "several" ? fc.oneof(valid, hostile) : valid;
      const extra = bendIf<[string, string][]>(
        ["extra"],
        fc.constant([]),
        fc.array(fc.tuple(fc.constantFrom("pow", "vip", "__proto__", "identity_assertion", "constructor"), jsonValueText), {
          minLength: 1,
          maxLength: 2,
        }),
      );
      return fc.record({
        room: bendIf(["room"], fc.constant(rooms[0]!), roomSegment(rooms)),
        contentType: bendIf<string | null>(["contentType"], fc.constant("application/json"), fc.oneof(fc.constant(null), contentType)),
        body:
          part === "raw"
            ? fc.record({ kind: fc.constant("raw" as const), raw: jsonBodyText(["identity_assertion", "pow"]) })
            : fc.record({
                kind: fc.constant("assertion" as const),
                recipe: bendIf(["assertion"], fc.constant(intact("identity")), assertion),
                extra,
              }),
        dpop: bendIf<TokenRecipe | null>(
          ["dpop"],
          fc.constant(intact()),
          fc.oneof(fc.constant(null), tokenRecipe(DPOP_MEMBERS, DPOP_HEADER)),
        ),
        noise: bendIf<[string, string][]>(
          ["noise"],
          fc.constant([]),
          noiseHeaders.map((h) => h.filter(([k]) => k !== "content-type" && k !== "dpop")),
        ),
      });
    });
}

async function materializeJoin(c: JoinCase): Promise<{ spec: Spec; wellFormed: boolean }> {
  const device = await freshDevice();
  const k = { ...keys, device };
  const url = `${ORIGIN}/v1/rooms/${c.room}/tickets`;
  const dpopBase = {
    header: { typ: "dpop+jwt", jwk: device.publicJwk },
    payload: { htm: "POST", htu: url, iat: now(), jti: crypto.randomUUID() },
  };
  const assertionBase = {
    header: { kid: DEV_IDENTITY_KEY.kid, typ: "JWT" },
    payload: { iss: DEV_IDENTITY_ISSUER, sub: `FR-P${crypto.randomUUID().slice(0, 8)}`, aud: "antichambre", iat: now(), exp: now() + 300 },
  };
  let body: RawBody;
  if (c.body.kind === "assertion") {
    const token = await materialize(c.body.recipe, assertionBase, k, testClock.now());
    body = objectText([["identity_assertion", JSON.stringify(token)], ...c.body.extra]);
  } else body = c.body.raw;
  const headers: [string, string][] = [...c.noise];
  if (c.contentType !== null) headers.push(["content-type", c.contentType]);
  if (c.dpop) headers.push(["dpop", await materialize(c.dpop, dpopBase, k, testClock.now())]);
  const wellFormed =
    c.body.kind === "assertion" && c.body.extra.length === 0 && c.contentType === "application/json" && c.room === world.room.name;
  return { spec: { method: "POST", path: `/v1/rooms/${c.room}/tickets`, headers, body }, wellFormed };
}

/** What a join may answer: a place (201 new, 200 held) or a refusal of the join's own kinds. */
const JOIN = { allowed: [200, 201, 400, 401, 403, 404, 415, 422, 428, 429, ...ANYWHERE] };

describe("POST /v1/rooms/{room}/tickets", () => {
  it("answers a place or a clean refusal, and a refusal takes no place", async () => {
    const watcher = new Watcher([world.room, world.other]);
    await fc.assert(
      fc.asyncProperty(joinCase([world.room.name, world.other.name]), async (c) => {
        const { spec, wellFormed } = await materializeJoin(c);
        const answer = await watcher.send(spec, JOIN);
        // By hand, the one refusal whose class the request alone decides: a well-formed body whose DPoP
        // header is missing or not even a JWS is a 401 invalid-dpop-proof (or the client limit's 429).
        const shapeless = c.dpop === null || c.dpop.kind === "raw" || c.dpop.kind === "segments";
        if (wellFormed && shapeless && !oversized(answer.status) && answer.status !== 429) {
          expect(answer.status, spec.headers.join(" | ")).toBe(401);
          expect(answer.problem?.type).toBe("urn:antichambre:problem:invalid-dpop-proof");
        }
      }),
      params(RUNS.join),
    );
  });

  it("exact classes: 413 over the body limit, 415 wrong type, 400 not JSON, 422 wrong shape, 404 no room", async () => {
    const watcher = new Watcher([world.room]);
    const device = await freshDevice();
    const url = (room: string) => `${ORIGIN}/v1/rooms/${room}/tickets`;
    const proof = (room: string) =>
      materialize(
        intact(),
        {
          header: { typ: "dpop+jwt", jwk: device.publicJwk },
          payload: { htm: "POST", htu: url(room), iat: now(), jti: crypto.randomUUID() },
        },
        { ...keys, device },
        testClock.now(),
      );
    const post = async (room: string, type: string | null, body: RawBody) => {
      const headers: [string, string][] = [["dpop", await proof(room)]];
      if (type) headers.push(["content-type", type]);
      return watcher.send({ method: "POST", path: `/v1/rooms/${room}/tickets`, headers, body }, JOIN);
    };
    const room = world.room.name;
    expect((await post(room, "application/json", `{"identity_assertion":"${"a".repeat(16_400)}"}`)).status).toBe(413);
    expect((await post(room, "text/plain", '{"identity_assertion":"x"}')).status).toBe(415);
    expect((await post(room, "application/json", '{"identity_assertion":')).status).toBe(400);
    expect((await post(room, "application/json", '{"identity_assertion":1e309}')).status).toBe(422);
    expect((await post(room, "application/json", '{"__proto__":{"identity_assertion":"x"}}')).status).toBe(422);
    expect((await post(room, "application/json", "[".repeat(16_000))).status).toBe(400);
    // An unknown room is told only to a join that is otherwise good (a valid proof and assertion).
    const assertion = await materialize(
      intact("identity"),
      {
        header: { kid: DEV_IDENTITY_KEY.kid, typ: "JWT" },
        payload: { iss: DEV_IDENTITY_ISSUER, sub: "FR-P-unknown-room", aud: "antichambre", iat: now(), exp: now() + 300 },
      },
      keys,
      testClock.now(),
    );
    expect((await post("no-such-room-anywhere", "application/json", JSON.stringify({ identity_assertion: assertion }))).status).toBe(404);
    expect((await post("..%2Fadmin", "application/json", `{"identity_assertion":"x"}`)).status).toBe(404);
  });

  it("leaves every secret of the world usable", async () => {
    await legitimateFollowUps(world);
  });
});
