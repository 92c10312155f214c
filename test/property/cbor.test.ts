import fc from "fast-check";
import { base64url, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { decodeCbor, encodeCbor, Tag, type CborValue } from "../../src/credentials/mdoc/cbor";
import { parseCoseSign1, verifyCoseSign1 } from "../../src/credentials/mdoc/cose-sign1";
import { params, RUNS } from "./support/fc";

/**
 * CBOR the service reads. No endpoint takes CBOR from a client today (key proofs are JWTs; the mdoc is
 * only written), but the COSE_Sign1 reader is what a verifier path would expose, and base64url CBOR is
 * among the token shapes the HTTP properties send everywhere. Here the reader itself: random bytes,
 * random CBOR structures (COSE-shaped and not), deep nesting and bytes behind base64url never make it
 * throw or accept; the decoder either returns or throws an Error.
 */
const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.integer(),
    // Finite only: the mdoc encoder refuses NaN and Infinity on purpose (they are no mdoc value).
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie("v"), { maxLength: 5 }),
    fc
      .array(fc.tuple(fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.string({ maxLength: 8 })), tie("v")), { maxLength: 4 })
      .map((entries) => new Map<unknown, unknown>(entries) as unknown as CborValue),
    fc.tuple(fc.constantFrom(18, 24, 1004, 0, 55799), tie("v")).map(([tag, value]) => new Tag(value, tag) as unknown as CborValue),
  ),
})).v;

/** Shaped like a COSE_Sign1: [bstr, map, bstr, 64-byte bstr], with any of the four bent. */
const coseShaped: fc.Arbitrary<CborValue> = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      cborValue.map((v) => encodeCbor(new Map([[1, v]]) as unknown as CborValue)),
      cborValue,
    ),
    fc.oneof(fc.constant(new Map() as unknown as CborValue), cborValue),
    fc.oneof(fc.uint8Array({ maxLength: 60 }), cborValue),
    fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ maxLength: 70 })),
  )
  .map((parts) => parts as unknown as CborValue);

describe("the COSE_Sign1 reader", () => {
  it("never throws and never accepts random bytes, random CBOR or bent COSE_Sign1 structures", async () => {
    const { publicKey } = await generateKeyPair("ES256");
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      cborValue.map(encodeCbor),
      coseShaped.map(encodeCbor),
      coseShaped.map((c) => encodeCbor(new Tag(c, 18) as unknown as CborValue)),
      // base64url text where bytes belong, as a confused client would send it
      cborValue.map((v) => new TextEncoder().encode(base64url.encode(encodeCbor(v)))),
    );
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const parsed = parseCoseSign1(bytes);
        expect(parsed === null || (Array.isArray(parsed) && parsed.length === 4)).toBe(true);
        const verified = await verifyCoseSign1(bytes, publicKey);
        expect(verified.ok).toBe(false);
      }),
      params(RUNS.cbor),
    );
  });

  it("survives nesting far deeper than any mdoc (arrays and maps 100,000 levels down)", () => {
    for (const head of [0x81, 0xa1]) {
      const depth = 100_000;
      const bytes = new Uint8Array(depth * (head === 0xa1 ? 2 : 1) + 1);
      for (let i = 0; i < depth; i++) {
        if (head === 0x81) bytes[i] = 0x81;
        else bytes.set([0xa1, 0x00], i * 2);
      }
      expect(parseCoseSign1(bytes)).toBeNull();
      let outcome: "value" | "error" = "value";
      try {
        decodeCbor(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        outcome = "error";
      }
      expect(["value", "error"]).toContain(outcome);
    }
  });

  it("decodes or throws an Error for any bytes (never hangs, never throws a non-Error)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeCbor(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
        }
      }),
      params(RUNS.cbor),
    );
  });
});
