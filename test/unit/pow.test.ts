import { describe, expect, it } from "vitest";
import { checkSolution, issueChallenge, CHALLENGE_LIFETIME_MS } from "../../src/abuse/pow-challenge";
import { DEFAULT_POW_POLICY, loadBits, requiredBits } from "../../src/abuse/pow-difficulty";
import { leadingZeroBits, meetsDifficulty, powDigest } from "../../src/abuse/pow";
import { leadingZeroBits as clientLeadingZeroBits, solveProofOfWork } from "../../client/proof-of-work";
import { hmacKeyring } from "../../src/tickets/keyring";

const key = (byte: number) =>
  btoa(String.fromCharCode(...new Uint8Array(32).fill(byte)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
const JKT = "A".repeat(43);
const OTHER_JKT = "B".repeat(43);
const NOW = Date.UTC(2026, 11, 1, 8);

describe("leading zero bits", () => {
  it("counts across byte boundaries, the same on both sides", () => {
    const cases: [number[], number][] = [
      [[0x80], 0],
      [[0x40], 1],
      [[0x01], 7],
      [[0x00, 0xff], 8],
      [[0x00, 0x00, 0x10], 19],
      [[0, 0, 0, 0], 32],
    ];
    for (const [bytes, bits] of cases) {
      expect(leadingZeroBits(Uint8Array.from(bytes))).toBe(bits);
      expect(clientLeadingZeroBits(Uint8Array.from(bytes))).toBe(bits);
    }
  });
});

describe("difficulty from load", () => {
  it("is off while quiet, starts at busyBits, adds a bit per doubling, stops at the ceiling", () => {
    const p = DEFAULT_POW_POLICY; // floor 0, ceiling 16, busy 20/s, 10 bits
    expect(requiredBits(p, 0)).toBe(0);
    expect(requiredBits(p, 19.9)).toBe(0);
    expect(requiredBits(p, 20)).toBe(10);
    expect(requiredBits(p, 39)).toBe(10);
    expect(requiredBits(p, 40)).toBe(11);
    expect(requiredBits(p, 80)).toBe(12);
    expect(requiredBits(p, 320)).toBe(14);
    expect(requiredBits(p, 1_280)).toBe(16);
    expect(requiredBits(p, 1e9)).toBe(16);
    expect(loadBits(p, Number.NaN)).toBe(0);
  });

  it("honours the floor and the room's minimum, both under the ceiling", () => {
    expect(requiredBits({ ...DEFAULT_POW_POLICY, floorBits: 8 }, 0)).toBe(8);
    expect(requiredBits(DEFAULT_POW_POLICY, 0, 12)).toBe(12);
    expect(requiredBits(DEFAULT_POW_POLICY, 0, 20)).toBe(16);
    expect(requiredBits({ ...DEFAULT_POW_POLICY, ceilingBits: 0 }, 1e6, 12)).toBe(0);
    expect(requiredBits({ ...DEFAULT_POW_POLICY, ceilingBits: 99 }, 0, 24)).toBe(24);
  });
});

describe("challenges", async () => {
  const ring = await hmacKeyring(JSON.stringify([{ kid: "k1", k: key(1) }]));
  const expected = { room: "permis", jkt: JKT, requiredBits: 8 };

  async function solved(difficulty = 8, at = NOW) {
    const { challenge } = await issueChallenge(ring, { room: "permis", jkt: JKT, difficulty }, at);
    const { solution } = await solveProofOfWork(challenge, difficulty);
    return { challenge, solution };
  }

  it("the SDK's solver finds solutions the service accepts", async () => {
    for (const difficulty of [0, 1, 6, 10]) {
      const pow = await solved(difficulty);
      expect(await meetsDifficulty(pow.challenge, pow.solution, difficulty)).toBe(true);
      expect(leadingZeroBits(await powDigest(pow.challenge, pow.solution))).toBeGreaterThanOrEqual(difficulty);
      const checked = await checkSolution(ring, pow, { ...expected, requiredBits: difficulty }, NOW + 1_000);
      expect(checked).toMatchObject({ ok: true, claims: { room: "permis", jkt: JKT, difficulty, expiresAt: NOW + CHALLENGE_LIFETIME_MS } });
    }
  });

  it("refuses each way a solution can be wrong, with its reason", async () => {
    const pow = await solved(8);
    const [payload, mac] = pow.challenge.split(".") as [string, string];
    const other = await hmacKeyring(JSON.stringify([{ kid: "k2", k: key(2) }]));
    const sameKidOtherKey = await hmacKeyring(JSON.stringify([{ kid: "k1", k: key(3) }]));
    let wrong = "0";
    while (await meetsDifficulty(pow.challenge, wrong, 8)) wrong += "0";
    const cases: [string, { challenge: string; solution: string }, typeof expected, number, typeof ring, string][] = [
      ["not two parts", { ...pow, challenge: payload }, expected, NOW, ring, "malformed"],
      ["bad base64/JSON", { ...pow, challenge: `!!!.${mac}` }, expected, NOW, ring, "malformed"],
      ["solution outside the pattern", { ...pow, solution: "a b" }, expected, NOW, ring, "malformed"],
      ["unknown kid (rotated out)", pow, expected, NOW, other, "unknown_key"],
      ["MAC by another key under the same kid", pow, expected, NOW, sameKidOtherKey, "bad_mac"],
      ["tampered difficulty", { ...pow, challenge: `${retouch(payload, (c) => (c.d = 0))}.${mac}` }, expected, NOW, ring, "bad_mac"],
      ["expired", pow, expected, NOW + CHALLENGE_LIFETIME_MS, ring, "expired"],
      ["another room", pow, { ...expected, room: "other" }, NOW, ring, "wrong_room"],
      ["another device key", pow, { ...expected, jkt: OTHER_JKT }, NOW, ring, "wrong_device_key"],
      ["difficulty rose since", pow, { ...expected, requiredBits: 9 }, NOW, ring, "too_easy"],
      ["a solution that does not hash low enough", { ...pow, solution: wrong }, expected, NOW, ring, "wrong_solution"],
    ];
    for (const [name, p, exp, at, r, reason] of cases) {
      expect(await checkSolution(r, p, exp, at), name).toEqual({ ok: false, reason });
    }
    expect((await checkSolution(ring, pow, expected, NOW)).ok).toBe(true);
  });

  it("challenges are unique and verify under an older key still in the ring (rotation)", async () => {
    const a = await issueChallenge(ring, { room: "permis", jkt: JKT, difficulty: 4 }, NOW);
    const b = await issueChallenge(ring, { room: "permis", jkt: JKT, difficulty: 4 }, NOW);
    expect(a.claims.nonce).not.toBe(b.claims.nonce);
    const rotated = await hmacKeyring(
      JSON.stringify([
        { kid: "k9", k: key(9) },
        { kid: "k1", k: key(1) },
      ]),
    );
    const { solution } = await solveProofOfWork(a.challenge, 4);
    expect((await checkSolution(rotated, { challenge: a.challenge, solution }, { ...expected, requiredBits: 4 }, NOW)).ok).toBe(true);
    const fresh = await issueChallenge(rotated, { room: "permis", jkt: JKT, difficulty: 4 }, NOW);
    expect(JSON.parse(atob(fresh.challenge.split(".")[0]!.replaceAll("-", "+").replaceAll("_", "/"))).kid).toBe("k9");
  });
});

describe("the SDK's solver", () => {
  it("gives the event loop a turn between slices and stops when aborted", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const controller = new AbortController();
    let now = 0;
    // Every batch "takes" 10 ms by this clock: with 20 ms slices it must yield every other batch.
    const solving = solveProofOfWork("x".repeat(200), 24, { batch: 64, sliceMs: 20, now: () => (now += 10), signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error("stop"));
    await expect(solving).rejects.toThrow("stop");
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it("refuses difficulties no phone should attempt", async () => {
    await expect(solveProofOfWork("c", 25)).rejects.toThrow(RangeError);
    await expect(solveProofOfWork("c", -1)).rejects.toThrow(RangeError);
    await expect(solveProofOfWork("c", 20, { maxHashes: 10 })).rejects.toThrow(/no proof-of-work solution/);
  });
});

function retouch(payload: string, edit: (claims: Record<string, unknown>) => void): string {
  const claims = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
  edit(claims);
  return btoa(JSON.stringify(claims)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
