import fc from "fast-check";

/**
 * Hostile building blocks: strings, header values, JSON texts and raw bodies a broken client or an
 * attacker could send. Endpoint-specific generators (requests.ts, tokens.ts) are made of these.
 */

/** Percent-encode every UTF-8 byte: lone surrogates become U+FFFD instead of a URIError. */
export function percentEncode(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) out += `%${b.toString(16).padStart(2, "0").toUpperCase()}`;
  return out;
}

/** Strings that have broken parsers before: NUL, lone surrogates, BOM, traversal, injection, odd numbers. */
export const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF\uD800",
  "\uFEFF",
  "\u202Epermis",
  "é",
  "𝕡𝕖𝕣𝕞𝕚𝕤",
  "../../etc/passwd",
  "..\\..\\windows",
  "%00",
  "%E0%A4%A",
  "%",
  "%zz",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "0x10",
  "true",
  "[object Object]",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1' --",
  "'; DROP TABLE tickets; --",
  "${jndi:ldap://x/a}",
  "{{7*7}}",
  "a\r\nSet-Cookie: x=1",
  "Bearer",
  "urn:ietf:params:oauth:grant-type:pre-authorized_code",
] as const;

/**
 * Header characters: printable ASCII and tab. fetch() cannot send raw bytes above 0x7f (workerd encodes
 * them as UTF-8, with a warning per request), so they would test nothing more than these.
 */
const headerChar = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09)).map((c) => String.fromCharCode(c));

/** A string that survives as an HTTP header value (no NUL, CR or LF), any length. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: headerChar, maxLength: 80 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS.filter((s) => /^[\t\x20-\x7e]*$/.test(s))) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 4_097, 6_000).map((n) => "x".repeat(n)) },
);

/** Any short string: random code points (lone surrogates included), graphemes, the nasty list. */
export const shortHostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
);

/** Any string at all: random code points (lone surrogates included), graphemes, the nasty list, large. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(4_097, 9_000).map((n) => "A".repeat(n)) },
);

/** Numbers as JSON text, including the ones JSON.parse turns into Infinity, -0 or precision loss. */
export const RAW_NUMBERS = [
  "1e309",
  "-1e309",
  "-0",
  "0",
  "1e-400",
  "123456789012345678901234567890",
  "9007199254740993",
  "-1",
  "0.5",
  "1E2",
  "1e2",
  "3.0",
] as const;

/** A JSON value written as text (so -0, 1e309 and duplicate keys survive). */
export const jsonValueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("null", "true", "false", ...RAW_NUMBERS, '"NaN"', '"1e309"', '"-0"', '""', '"\\u0000"', '"\\ud800"'),
    hostileString.map((s) => JSON.stringify(s)),
    fc.double().map((d) => (Number.isFinite(d) ? JSON.stringify(d) : '"NaN"')),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc.array(fc.tuple(jsonKey(), tie("value")), { maxLength: 4 }).map(objectText),
  ),
})).value;

/** Object keys: random, prototype-pollution names, and (given) the endpoint's own member names. */
export function jsonKey(known: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom("__proto__", "constructor", "prototype", ...(known.length > 0 ? known : ["a"])),
    fc.string({ unit: "binary", maxLength: 12 }),
  );
}

/** `{"k": v, …}` from entries, keeping duplicates and `__proto__` as written (JSON.stringify would not). */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

/** Deeply nested JSON within the body limit: arrays and objects thousands of levels down. */
export const deepJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(100, 3_000, 8_000).map((d) => "[".repeat(d) + "]".repeat(d)),
  fc.constantFrom(100, 2_700).map((d) => '{"a":'.repeat(d) + "1" + "}".repeat(d)),
  fc.constantFrom(100, 16_000).map((d) => "[".repeat(d)),
);

/** Texts that are not JSON, or are JSON only to a lenient parser. */
export const MALFORMED_JSON = [
  "{",
  "}",
  '{"a":1,}',
  "{'a':1}",
  "\uFEFF{}",
  '{"a":1} trailing',
  "/*c*/{}",
  '{"a":01}',
  '{"a":NaN}',
  '{"a":Infinity}',
  "[1,,2]",
  '"unterminated',
  '{"a":"\\x41"}',
  "\u0000",
  "",
] as const;

/**
 * A JSON body aimed at an endpoint with members `known`: the right names with hostile values and
 * types, pollution keys, wrong top-level types, nesting, malformed and oversized texts.
 */
export function jsonBodyText(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.tuple(jsonKey(known), jsonValueText), { maxLength: 5 }).map(objectText) },
    { weight: 2, arbitrary: jsonValueText },
    { weight: 1, arbitrary: deepJson },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"__proto__":null}'),
    },
    { weight: 1, arbitrary: fc.constantFrom(16_384, 16_385, 17_000).map((n) => `{"a":"${"x".repeat(n - 8)}"}`) },
  );
}

/** Content types, honest and lying. */
export const contentType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;;;",
    "application/jsonx",
    "application/problem+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/cbor",
    "application/octet-stream",
    "",
  ),
  // Short: workerd echoes a body's unknown content type into a warning each time the Worker reads it.
  fc.string({ unit: headerChar, maxLength: 30 }),
);

/** A raw body: text, random bytes, or nothing. */
export type RawBody = string | Uint8Array | null;

export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.constantFrom(16_384, 16_385).map((n) => new Uint8Array(n).fill(0x41)),
);

/** Methods a client can send (workerd knows a fixed list: no CONNECT/TRACE, no made-up verbs); lowercase "patch" stays lowercase. */
export const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "patch", "PROPFIND", "PURGE", "QUERY");

/** Cookie headers: the room's and the dashboard's cookies with hostile values, duplicates and junk. */
export const cookieHeader: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom("antichambre_ticket", "antichambre_start", "antichambre_admin", "__Host-antichambre_admin", "x", "=", ""),
      fc.oneof(
        headerValue.map((v) => v.replace(/[;,]/g, "")),
        fc.constantFrom("%E0%A4%A", "%zz", "v1.1.2.AAAAAAAAAAAAAAAA.AAAA", '"quoted"', "a=b=c"),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("; "));
