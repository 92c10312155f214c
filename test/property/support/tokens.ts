import fc from "fast-check";
import { base64url, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { DEV_IDENTITY_KEY, DEV_TICKET_KEYS } from "../../../src/config/dev-defaults";
import { encodeCbor, type CborValue } from "../../../src/credentials/mdoc/cbor";
import { hmacKeyring } from "../../../src/tickets/keyring";
import { seal, type SealPurpose } from "../../../src/tickets/sealed";
import { hostileString, jsonValueText, objectText } from "./hostile";

/**
 * Compact JWS/JWE shapes, as recipes. fast-check arbitraries are synchronous and signing is not, so a
 * generator draws a plain-data recipe (shrinkable, printable) and `materialize` signs it at run time.
 *
 * A recipe starts from a base header and payload given by the endpoint (a DPoP proof, a key proof, an
 * identity assertion, a ticket) and bends it: members overridden with hostile or near-miss values,
 * members dropped, another signer or algorithm, a huge or private embedded key, a tampered segment.
 */
export type Signer = "device" | "stranger" | "hmac" | "none" | "garbage" | "identity" | "ticket";
export type EmbeddedKey = "device" | "stranger" | "private" | "rsa" | "oct" | "p384" | "huge" | "junk" | "absent";
export type Tamper = "none" | "signature" | "payload" | "header";

export type TokenRecipe =
  | { kind: "raw"; text: string }
  | { kind: "segments"; parts: string[] }
  | { kind: "jwe"; header: string; parts: number[] }
  | { kind: "sealed"; purpose: SealPurpose; claims: string }
  | {
      kind: "jws";
      signer: Signer;
      alg: string;
      jwk: EmbeddedKey;
      header: [string, string][];
      payload: [string, string][];
      drop: string[];
      tamper: Tamper;
    };

export interface Keys {
  device: { privateKey: CryptoKey; publicJwk: JWK };
  stranger: { privateKey: CryptoKey; publicJwk: JWK };
  privateJwk: JWK;
  hmac: CryptoKey;
  identity: CryptoKey;
  ticket: CryptoKey;
}

export async function makeKeys(device?: { privateKey: CryptoKey; publicJwk: JWK }): Promise<Keys> {
  const pair = async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
  };
  const stranger = await pair();
  const ticketKey = (JSON.parse(DEV_TICKET_KEYS) as { k: string }[])[0]!.k;
  return {
    device: device ?? (await pair()),
    stranger,
    privateJwk: stranger.privateJwk,
    hmac: await crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]),
    identity: (await importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256")) as CryptoKey,
    ticket: await crypto.subtle.importKey("raw", base64url.decode(ticketKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
  };
}

const b64 = (text: string) => base64url.encode(new TextEncoder().encode(text));

/** A base64url segment: of random bytes, of some JSON or CBOR, or a hostile string verbatim. */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 96 }).map((b) => base64url.encode(b)),
  jsonValueText.map(b64),
  // base64url CBOR, as a client confusing mdoc and JOSE encodings would send it
  fc.jsonValue({ maxDepth: 2 }).map((v) => base64url.encode(encodeCbor(v as CborValue))),
  hostileString,
  fc.constant(""),
);

/**
 * Recipes around a base token. `members` maps a member name to near-miss values for it (as JSON text),
 * e.g. htm → '"GET"'; random JSON values are mixed in for every member anyway.
 */
export function tokenRecipe(
  members: Record<string, readonly string[]>,
  headerMembers: Record<string, readonly string[]> = {},
  signers: readonly Signer[] = ["device", "stranger", "hmac", "none", "garbage"],
  mainAlg = "ES256",
): fc.Arbitrary<TokenRecipe> {
  const names = Object.keys(members);
  const nearMiss = (table: Record<string, readonly string[]>) =>
    Object.keys(table).map((name) =>
      fc.tuple(
        fc.constant(name),
        fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(table[name]!.length > 0 ? table[name]! : ["null"])) }, jsonValueText),
      ),
    );
  const override = fc.oneof(...nearMiss(members), fc.tuple(fc.constantFrom("__proto__", "constructor", "nbf", "exp"), jsonValueText));
  const headerOverride = fc.oneof(
    ...nearMiss(headerMembers),
    fc.tuple(
      fc.constantFrom("crit", "b64", "zip", "kid", "x5u", "jku", "enc", "typ", "__proto__"),
      fc.oneof(jsonValueText, fc.constantFrom('["exp"]', "false", '"DEF"', '"https://evil.example/jwks"')),
    ),
  );
  const jws = fc.record({
    kind: fc.constant("jws" as const),
    signer: fc.constantFrom(...signers),
    alg: fc.oneof(
      { weight: 5, arbitrary: fc.constant(mainAlg) },
      fc.constantFrom("none", "HS256", "ES256", "ES384", "RS256", "EdDSA", "es256", ""),
    ),
    jwk: fc.oneof(
      { weight: 5, arbitrary: fc.constant("device" as const) },
      fc.constantFrom<EmbeddedKey>("stranger", "private", "rsa", "oct", "p384", "huge", "junk", "absent"),
    ),
    header: fc.array(headerOverride, { maxLength: 2 }),
    payload: fc.array(override, { maxLength: 3 }),
    drop: fc.subarray(names, { maxLength: Math.min(2, names.length) }),
    tamper: fc.oneof({ weight: 4, arbitrary: fc.constant("none" as const) }, fc.constantFrom<Tamper>("signature", "payload", "header")),
  });
  return fc.oneof(
    { weight: 6, arbitrary: jws },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("segments" as const), parts: fc.array(segment, { minLength: 1, maxLength: 6 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("raw" as const), text: hostileString }) },
    { weight: 1, arbitrary: jweRecipe },
  );
}

/** Well-formed JWE shapes that cannot decrypt: wrong algorithms, PBES2 with a huge p2c, zip, unknown kid. */
export const jweRecipe: fc.Arbitrary<TokenRecipe> = fc.record({
  kind: fc.constant("jwe" as const),
  header: fc.oneof(
    fc.constantFrom(
      '{"alg":"dir","enc":"A256GCM","kid":"dev-ticket-1","cty":"pre-authorized-code"}',
      '{"alg":"dir","enc":"A256GCM","kid":"dev-ticket-1","cty":"access-token"}',
      '{"alg":"dir","enc":"A256GCM","kid":"rogue"}',
      '{"alg":"dir","enc":"A128CBC-HS256","kid":"dev-ticket-1"}',
      '{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":1000000000,"p2s":"AAAAAAAAAAAAAAAAAAAAAA"}',
      '{"alg":"dir","enc":"A256GCM","kid":"dev-ticket-1","zip":"DEF"}',
      '{"alg":"none","enc":"none"}',
      '{"alg":"RSA-OAEP","enc":"A256GCM"}',
    ),
    jsonValueText,
  ),
  parts: fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 16 }), fc.nat({ max: 300 }), fc.nat({ max: 20 })).map((t) => [...t]),
});

/**
 * Insider-made sealed tokens: the real keys around `base` claims bent like a JWS recipe's payload
 * (overridden, dropped). No client can make these; the claim checks behind the decryption must hold anyway.
 */
export function sealedRecipe(
  purposes: readonly SealPurpose[],
  base: Record<string, unknown>,
  members: Record<string, readonly string[]>,
): fc.Arbitrary<TokenRecipe> {
  const names = Object.keys(members);
  const override = fc.oneof(
    ...names.map((n) =>
      fc.tuple(
        fc.constant(n),
        fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(members[n]!.length > 0 ? members[n]! : ["null"])) }, jsonValueText),
      ),
    ),
  );
  return fc
    .record({
      purpose: fc.constantFrom(...purposes),
      overrides: fc.array(override, { minLength: 1, maxLength: 2 }),
      drop: fc.subarray(names, { maxLength: Math.min(1, names.length) }),
    })
    .map(({ purpose, overrides, drop }) => ({ kind: "sealed" as const, purpose, claims: entriesText(base, overrides, drop) }));
}

/** The base token a recipe bends. */
export interface Base {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function publicJwk(keys: Keys, which: EmbeddedKey): unknown {
  switch (which) {
    case "device":
      return keys.device.publicJwk;
    case "stranger":
      return keys.stranger.publicJwk;
    case "private":
      return keys.privateJwk;
    case "rsa":
      return { kty: "RSA", n: "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl", e: "AQAB" };
    case "oct":
      return { kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" };
    case "p384":
      return { kty: "EC", crv: "P-384", x: "AAAA", y: "BBBB" };
    case "huge":
      return { ...keys.device.publicJwk, x5c: ["A".repeat(6_000)] };
    case "junk":
      return "not-a-jwk";
    case "absent":
      return undefined;
  }
}

async function signWith(signer: Signer, keys: Keys, input: string): Promise<string> {
  const data = new TextEncoder().encode(input);
  const ecdsa = { name: "ECDSA", hash: "SHA-256" };
  switch (signer) {
    case "device":
      return base64url.encode(new Uint8Array(await crypto.subtle.sign(ecdsa, keys.device.privateKey, data)));
    case "stranger":
      return base64url.encode(new Uint8Array(await crypto.subtle.sign(ecdsa, keys.stranger.privateKey, data)));
    case "identity":
      return base64url.encode(new Uint8Array(await crypto.subtle.sign(ecdsa, keys.identity, data)));
    case "hmac":
      return base64url.encode(new Uint8Array(await crypto.subtle.sign("HMAC", keys.hmac, data)));
    case "ticket":
      return base64url.encode(new Uint8Array(await crypto.subtle.sign("HMAC", keys.ticket, data)));
    case "none":
      return "";
    case "garbage":
      return base64url.encode(crypto.getRandomValues(new Uint8Array(64)));
  }
}

/** Change one character in the middle of a base64url segment (never the last: its spare bits may not count). */
export function flipMiddle(segment: string): string {
  if (segment.length < 3) return `${segment}A`;
  const i = Math.floor(segment.length / 2);
  const c = segment[i] === "A" ? "B" : "A";
  return segment.slice(0, i) + c + segment.slice(i + 1);
}

function entriesText(base: Record<string, unknown>, overrides: readonly (readonly [string, string])[], drop: readonly string[]): string {
  const entries: [string, string][] = Object.entries(base)
    .filter(([k, v]) => !drop.includes(k) && v !== undefined)
    .map(([k, v]) => [k, JSON.stringify(v)]);
  for (const [k, v] of overrides) {
    const at = entries.findIndex(([name]) => name === k);
    if (at >= 0) entries[at] = [k, v];
    else entries.push([k, v]);
  }
  return objectText(entries);
}

export async function materialize(recipe: TokenRecipe, base: Base, keys: Keys, nowMs: number): Promise<string> {
  switch (recipe.kind) {
    case "raw":
      return recipe.text;
    case "segments":
      return recipe.parts.join(".");
    case "jwe": {
      const random = (n: number) => base64url.encode(crypto.getRandomValues(new Uint8Array(n)));
      return [b64(recipe.header), ...recipe.parts.map(random)].join(".");
    }
    case "sealed": {
      const ring = await hmacKeyring(DEV_TICKET_KEYS);
      const claims = JSON.parse(recipe.claims) as Record<string, unknown>;
      // seal() sets iat/exp itself; an arbitrary `exp` claim is overwritten, which is fine: the claims under test are the others.
      return seal(ring, recipe.purpose, claims, nowMs, nowMs + 3_600_000);
    }
    case "jws": {
      const header = {
        ...base.header,
        alg: recipe.alg,
        ...(recipe.jwk === "device" && "jwk" in base.header ? {} : "jwk" in base.header ? { jwk: publicJwk(keys, recipe.jwk) } : {}),
      };
      const h = b64(entriesText(header, recipe.header, []));
      const p = b64(entriesText(base.payload, recipe.payload, recipe.drop));
      let sig = await signWith(recipe.signer, keys, `${h}.${p}`);
      let [hh, pp] = [h, p];
      if (recipe.tamper === "signature") sig = flipMiddle(sig);
      if (recipe.tamper === "payload") pp = flipMiddle(p);
      if (recipe.tamper === "header") hh = flipMiddle(h);
      return `${hh}.${pp}.${sig}`;
    }
  }
}

/** The base token unbent, signed by `signer`: a valid token wherever the base and signer are right. */
export function intact(signer: Signer = "device", alg = "ES256"): TokenRecipe {
  return { kind: "jws", signer, alg, jwk: "device", header: [], payload: [], drop: [], tamper: "none" };
}

/** A fresh device per run where a limit counts per device key (joins: 30 a minute, frozen clock). */
export async function freshDevice(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}
