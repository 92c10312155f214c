import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAnchors, verifyX5c } from "../../src/auth/x509-chain";
import { ConfigError } from "../../src/config/config-error";
import { DEV_WALLET_PROVIDER_CA_PEM, DEV_WALLET_PROVIDER_CERT_PEM } from "../../src/config/dev-wallet-provider";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { testClock } from "../helpers/api";
import { params } from "./support/fc";

/**
 * The certificate chain check (src/auth/x509-chain.ts) reads DER a client sent. Whatever the bytes
 * (the development wallet provider's real certificate with bytes changed, cut short or grown), it
 * answers a refusal and never throws: a throw would be a 500. And only the untouched certificate is
 * accepted: a change anywhere that matters breaks its signature or its structure.
 */
const leaf = pemToDer(DEV_WALLET_PROVIDER_CERT_PEM);
const anchors = parseAnchors(DEV_WALLET_PROVIDER_CA_PEM);
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

type Mutation = { kind: "set"; at: number; value: number } | { kind: "cut"; at: number } | { kind: "grow"; bytes: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat({ max: leaf.length - 1 }), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat({ max: leaf.length - 1 }) }),
  fc.record({ kind: fc.constant("grow" as const), bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (m.kind === "cut") return bytes.slice(0, m.at);
  if (m.kind === "grow") return Uint8Array.from([...bytes, ...m.bytes]);
  const out = bytes.slice();
  if (m.at < out.length) out[m.at] = m.value;
  return out;
}

describe("x5c chain check on hostile bytes", () => {
  it("accepts the development wallet provider's certificate as it is", async () => {
    const result = await verifyX5c([b64(leaf)], anchors, testClock.now());
    expect(result.ok).toBe(true);
  });

  it("refuses, never throws, for any change to the certificate's bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const bytes = mutations.reduce(apply, leaf);
        const result = await verifyX5c([b64(bytes)], anchors, testClock.now());
        const unchanged = bytes.length === leaf.length && bytes.every((b, i) => b === leaf[i]);
        if (!unchanged) expect(result.ok).toBe(false);
      }),
      params(200),
    );
  });

  it("refuses, never throws, for random bytes and random x5c shapes", async () => {
    const entry = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 300 }).map(b64), fc.string(), fc.constant(b64(leaf)), fc.anything());
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(entry, { maxLength: 7 }), fc.anything()), async (x5c) => {
        const result = await verifyX5c(x5c, anchors, testClock.now());
        const alone = Array.isArray(x5c) && x5c.length === 1 && x5c[0] === b64(leaf);
        if (!alone) expect(result.ok).toBe(false);
      }),
      params(200),
    );
  });

  it("a configured anchor that is not a certificate is the deployment's error, named", () => {
    const bad = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(() => parseAnchors(bad)).toThrow(ConfigError);
    expect(() => parseAnchors(bad)).toThrow(/WALLET_PROVIDER_ANCHORS/);
  });
});
