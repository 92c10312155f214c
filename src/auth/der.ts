/**
 * The few DER (X.690) shapes an X.509 certificate is made of, read from bytes a client sent us: each
 * read checks its bounds and throws DerError on anything malformed, which the caller turns into a
 * refusal. Definite lengths only (DER has no other), single-byte tags only (X.509 uses no other).
 *
 * Why not @peculiar/x509 in the Worker: it needs the Reflect metadata API (tsyringe) installed globally
 * and brings asn1js and a dozen schema packages into the bundle, for the handful of fields a chain
 * check reads. The tests use it to make certificates, so this reader is checked against it.
 */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

/** One TLV: `tag`, its content (`value`) and the whole encoding (`encoded`, tag and length included). */
export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
  readonly encoded: Uint8Array;
}

/** The TLV starting at `offset` of `bytes`. */
export function readTlv(bytes: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > bytes.length) throw new DerError("truncated");
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tag");
  let length = bytes[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // 0 would be BER's indefinite length; more than 3 bytes of length is far beyond any certificate.
    if (count === 0 || count > 3) throw new DerError("unsupported length");
    if (offset + 2 + count > bytes.length) throw new DerError("truncated");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
    if (length < 0x80) throw new DerError("non-minimal length");
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError("truncated");
  return { tag, value: bytes.subarray(offset + header, end), encoded: bytes.subarray(offset, end) };
}

/** A single TLV that must fill `bytes` exactly, with the tag `tag`. */
export function readOnly(bytes: Uint8Array, tag: number): Tlv {
  const tlv = readTlv(bytes);
  if (tlv.encoded.length !== bytes.length) throw new DerError("trailing bytes");
  return expectTag(tlv, tag);
}

export function expectTag(tlv: Tlv | undefined, tag: number): Tlv {
  if (!tlv || tlv.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  return tlv;
}

/** The TLVs inside a constructed TLV's content, in order. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < tlv.value.length;) {
    const child = readTlv(tlv.value, offset);
    out.push(child);
    offset += child.encoded.length;
  }
  return out;
}

/** An OBJECT IDENTIFIER's dotted form. */
export function oid(tlv: Tlv): string {
  const v = expectTag(tlv, TAG.OID).value;
  if (v.length === 0) throw new DerError("empty OID");
  const arcs: number[] = [];
  let arc = 0;
  for (const [i, byte] of v.entries()) {
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OID arc too large");
    if (!(byte & 0x80)) {
      if (arcs.length === 0) arcs.push(arc < 80 ? Math.floor(arc / 40) : 2, arc < 80 ? arc % 40 : arc - 80);
      else arcs.push(arc);
      arc = 0;
    } else if (i === v.length - 1) throw new DerError("truncated OID");
  }
  return arcs.join(".");
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049 per RFC 5280) or GeneralizedTime (YYYYMMDDHHMMSSZ): ms since the epoch. */
export function time(tlv: Tlv): number {
  const text = new TextDecoder().decode(tlv.value);
  let match: RegExpMatchArray | null;
  let year: number;
  if (tlv.tag === TAG.UTC_TIME && (match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(match[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (tlv.tag === TAG.GENERALIZED_TIME && (match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1]);
  } else throw new DerError("bad time");
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(ms) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    throw new DerError("bad time");
  return ms;
}

/** A BIT STRING's bytes (the unused-bits count must be 0 unless `allowUnused`). */
export function bitString(tlv: Tlv, allowUnused = false): Uint8Array {
  const v = expectTag(tlv, TAG.BIT_STRING).value;
  if (v.length === 0 || v[0]! > 7 || (!allowUnused && v[0] !== 0)) throw new DerError("bad bit string");
  return v.subarray(1);
}

/** A non-negative INTEGER's magnitude, without the sign byte DER adds when the top bit is set. */
export function unsignedInteger(tlv: Tlv): Uint8Array {
  const v = expectTag(tlv, TAG.INTEGER).value;
  if (v.length === 0 || v[0]! & 0x80) throw new DerError("bad integer");
  let start = 0;
  while (start < v.length - 1 && v[start] === 0) start++;
  return v.subarray(start);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
