import { Encoder, Tag } from "cbor-x";

/**
 * The one CBOR codec for ISO/IEC 18013-5 structures (IssuerSigned, MSO, COSE).
 *
 * cbor-x is tuned for JavaScript-to-JavaScript messaging, and its defaults produce bytes an mdoc verifier
 * rejects or, worse, hashes differently: records (private tags 0xE000+), `Uint8Array` as tag 64, `Map`
 * as tag 259, `Date` as epoch tag 1, every object as a map16. Every option below is therefore set
 * explicitly, and test/credentials/mdoc.test.ts pins the resulting bytes.
 *
 * Digests in the MSO cover the exact bytes of each tag-24 item, and some verifiers (e.g. @owf/mdoc)
 * re-encode what they decoded before hashing: the encoding must be the canonical one (shortest heads,
 * definite lengths, no extra tags), or their digests will not match ours.
 *
 * Trade-off accepted: cbor-x keeps its tag *decoders* in process-global state, and other libraries
 * register their own (@owf/mdoc turns tag 24 into its `DataItem`, tag 1004 into `DateOnly`). Nothing in
 * the issuance path decodes tags, so that cannot change what we sign; code that decodes mdoc tags must
 * accept either form.
 */
const codec = new Encoder({
  // Records are a cbor-x extension (structure definitions under private tags): no mdoc reader knows them.
  useRecords: false,
  // Decode every map as a Map, so integer keys (COSE labels, digestIDs) come back as integers rather
  // than the strings "1", "-7"... that a plain object would force.
  mapsAsObjects: false,
  // A Uint8Array is a plain byte string (major type 2); cbor-x would otherwise add tag 64 under Node.
  tagUint8Array: false,
  // Objects get a head sized to their entry count (0xA0+n), not a fixed map16 (0xB9 nnnn): the
  // preferred serialization a re-encoding verifier produces.
  variableMapSize: true,
  // No shared-structure or string-bundling extensions: both emit cbor-x-only tags.
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  // Decoded byte strings are copies, not views that keep the whole input buffer alive.
  copyBuffers: true,
  // Maps are CBOR maps, never tag 259 ("this is a JS Map"). Not in cbor-x's typings, hence the spread.
  ...{ useTag259ForMaps: false },
});

/** Values this module will encode. `Date` and `undefined` are left out on purpose (see `tdate`). */
export type CborValue =
  null | boolean | number | bigint | string | Uint8Array | Tag | readonly CborValue[] | ReadonlyMap<CborValue, CborValue> | CborObject;

/**
 * A map with text keys, written as a JS object (insertion order is the encoded order). Integer labels
 * need a Map: an object would write them as text, and JS moves integer-like keys to the front anyway.
 */
export interface CborObject {
  readonly [key: string]: CborValue;
}

export { Tag };

/** RFC 8949 §3.4.5.1: an embedded, already encoded CBOR data item (`#6.24(bstr .cbor X)`). */
export const TAG_ENCODED_CBOR = 24;
/** RFC 8949 §3.4.1: a standard date/time string (tdate). */
export const TAG_TDATE = 0;
/** RFC 8943: an RFC 3339 full-date string. */
export const TAG_FULL_DATE = 1004;

/**
 * Encode with the mdoc codec. The input is walked first: cbor-x silently turns a `Date` into tag 1, an
 * `undefined` into simple value 23 and a class instance into a map of its fields — none of which an mdoc
 * may contain. Returns a fresh plain Uint8Array: cbor-x hands out views into a shared, reused buffer,
 * and a Node Buffer wherever one exists (vitest-pool-workers enables nodejs_compat; production does not).
 */
export function encodeCbor(value: CborValue): Uint8Array {
  assertEncodable(value, "$");
  return new Uint8Array(codec.encode(value));
}

/** Decode with the mdoc codec: maps come back as `Map`, byte strings as `Uint8Array`. */
export function decodeCbor(bytes: Uint8Array): unknown {
  return codec.decode(bytes);
}

/** `#6.24(bstr .cbor value)`: the value is encoded once here, and those bytes are what gets signed. */
export function encodedCbor(value: CborValue): Tag {
  return new Tag(encodeCbor(value), TAG_ENCODED_CBOR);
}

/** `#6.0("YYYY-MM-DDThh:mm:ssZ")`: ISO 18013-5 §7.1 forbids fractional seconds, so they are dropped. */
export function tdate(date: Date): Tag {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("tdate: invalid Date");
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/.test(iso)) throw new RangeError(`tdate: year out of range: ${iso}`);
  return new Tag(`${iso.slice(0, 19)}Z`, TAG_TDATE);
}

/** `#6.1004("YYYY-MM-DD")`, after checking the string names a real calendar day. */
export function fullDate(value: string): Tag {
  if (!isFullDate(value)) throw new RangeError(`full-date: not a YYYY-MM-DD calendar date: ${JSON.stringify(value)}`);
  return new Tag(value, TAG_FULL_DATE);
}

export function isFullDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear undoes that before the round-trip check.
  date.setUTCFullYear(y);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function assertEncodable(value: unknown, path: string): void {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`CBOR: non-finite number at ${path}`);
      return;
    case "object":
      break;
    default:
      throw new TypeError(`CBOR: cannot encode ${typeof value} at ${path}`);
  }
  if (value === null || value instanceof Uint8Array) return;
  if (value instanceof Tag) {
    if (!Number.isSafeInteger(value.tag) || value.tag < 0) throw new TypeError(`CBOR: bad tag number at ${path}`);
    return assertEncodable(value.value, `${path}<#${value.tag}>`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertEncodable(item, `${path}[${i}]`));
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertEncodable(k, `${path}{key}`);
      assertEncodable(v, `${path}.${String(k)}`);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`CBOR: cannot encode ${proto?.constructor?.name ?? "object"} at ${path}`);
  }
  for (const [k, v] of Object.entries(value)) assertEncodable(v, `${path}.${k}`);
}
