import fc from "fast-check";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testClock } from "../helpers/api";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { Watcher, printTally } from "./support/probe";
import { headers as noiseHeaders, roomSegment } from "./support/requests";
import { ANYWHERE } from "./support/routes";
import { bend, bent, heldName, heldTokens, type Bend, type HeldName } from "./support/held";
import { makeKeys, materialize, tokenRecipe, type Base, type Keys, type TokenRecipe } from "./support/tokens";
import { legitimateFollowUps, makeWorld, type World } from "./support/world";

/**
 * GET /v1/rooms/{room}/tickets/current with every kind of bearer a client could hold or forge: random
 * compact shapes, the world's real tickets tampered or presented in the wrong room, other tokens of the
 * service (access tokens, codes, nonces, admission tokens) in the ticket's place, and tickets re-signed
 * with the real key around bent claims (an insider's forgery: the claim checks must hold even then).
 */
let world: World;
let keys: Keys;
let secrets: Record<HeldName, string>;
let ticketBase: Base;

beforeAll(async () => {
  captureLogs();
  world = await makeWorld();
  keys = await makeKeys();
  secrets = await heldTokens(world);
  ticketBase = {
    header: decodeProtectedHeader(world.waiting.ticket) as Record<string, unknown>,
    payload: decodeJwt(world.waiting.ticket) as Record<string, unknown>,
  };
  console.log(`poll properties: fast-check seed ${SEED}`);
});
afterAll(() => {
  printTally("poll answers");
  releaseLogs();
});

const TICKET_MEMBERS = {
  room: ['"permis"', '""', "null", '["x"]'],
  ord: ["[0,0]", "[-1,5]", "[1e309,0]", '["1","2"]', "[1,2,3]", "[9007199254740993,0]", "null"],
  cnf: ['{"jkt":1}', "{}", "null"],
  sub: ['""', "1", '"0.0"', `"${"9".repeat(400)}"`],
  aud: ['"antichambre:room:other"', "[]", "null"],
  iss: ['"someone"'],
  exp: ["0", "1e309", '"never"'],
  iat: ["-0", "1e309"],
  ja: ['"x"', "1e309"],
  psn: ["1", '"not-sealed"', '""'],
  ua: ["-5", "1.5", "1e309", '"3"'],
};
const TICKET_HEADER = { kid: ['"rogue"', '""', "null", "1"], typ: ['"JWT"', "null"] };

interface PollCase {
  room: string;
  token: { kind: "recipe"; recipe: TokenRecipe } | { kind: "held"; which: HeldName; bend: Bend };
  scheme: string;
  duplicate: string | null;
  noise: [string, string][];
}

function pollCase(rooms: readonly string[]): fc.Arbitrary<PollCase> {
  return fc.record({
    room: fc.oneof({ weight: 6, arbitrary: fc.constant(rooms[0]!) }, roomSegment(rooms)),
    token: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("recipe" as const),
          recipe: tokenRecipe(TICKET_MEMBERS, TICKET_HEADER, ["ticket", "hmac", "none", "garbage", "stranger"], "HS256"),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("held" as const), which: heldName, bend }) },
    ),
    scheme: fc.oneof(
      { weight: 6, arbitrary: fc.constant("Bearer ") },
      fc.constantFrom("bearer ", "DPoP ", "Bearer  ", "", "Basic ", "Bearer\t"),
    ),
    duplicate: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, fc.constantFrom("Bearer x", "Bearer", "")),
    noise: fc.oneof(
      { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
      noiseHeaders.map((h) => h.filter(([k]) => k !== "authorization")),
    ),
  });
}

const POLL = { allowed: [200, 401, 404, 429, ...ANYWHERE] };

describe("GET /v1/rooms/{room}/tickets/current", () => {
  it("answers the ticket's status or a clean 401/404, and changes nothing", async () => {
    const watcher = new Watcher([world.room, world.other], { shards: false });
    await fc.assert(
      fc.asyncProperty(pollCase([world.room.name, world.other.name]), async (c) => {
        const token =
          c.token.kind === "recipe"
            ? await materialize(c.token.recipe, ticketBase, keys, testClock.now())
            : bent(secrets[c.token.which], c.token.bend);
        const headers: [string, string][] = [...c.noise, ["authorization", `${c.scheme}${token}`]];
        if (c.duplicate !== null) headers.push(["authorization", c.duplicate]);
        const answer = await watcher.send({ method: "GET", path: `/v1/rooms/${c.room}/tickets/current`, headers, body: null }, POLL);
        // By hand: a bearer that is not even a compact JWS, in the world's room, is a 401 invalid-ticket.
        const shapeless = c.token.kind === "recipe" && (c.token.recipe.kind === "raw" || c.token.recipe.kind === "segments");
        if (shapeless && c.room === world.room.name && !oversized(answer.status) && answer.status !== 429) {
          expect(answer.status).toBe(401);
          expect(answer.problem?.type).toBe("urn:antichambre:problem:invalid-ticket");
        }
        // Every token of the service that is not this room's ticket is refused, whatever it is.
        if (c.token.kind === "held" && !["waiting", "admitted"].includes(c.token.which))
          expect([401, 404, 405, 413, 414, 429, 431]).toContain(answer.status);
      }),
      params(RUNS.poll),
    );
  });

  it("leaves every secret of the world usable", async () => {
    await legitimateFollowUps(world);
  });
});
