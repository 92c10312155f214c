/**
 * The validity period (notBefore, notAfter) of a DER X.509 certificate (RFC 5280 §4.1.2.5), read with
 * a minimal DER walk: the Worker has no X.509 library, and this is the one field it needs from its own
 * signer certificates before signing with them. Anything that is not the expected structure throws, so
 * a damaged certificate secret is found at the first signature, not by a wallet.
 */
export interface CertificateValidity {
  readonly notBefore: number;
  readonly notAfter: number;
}

const SEQUENCE = 0x30;
const CONTEXT_0 = 0xa0;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** The element at `at`: its tag and where its content starts and ends (definite lengths only, as DER). */
function element(der: Uint8Array, at: number, limit: number): Element {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) throw new TypeError("certificate: truncated DER");
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 3) throw new TypeError("certificate: unsupported DER length");
    length = 0;
    for (let i = 0; i < octets; i++) length = (length << 8) | (der[start + i] ?? 0);
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new TypeError("certificate: DER element runs past its parent");
  return { tag, start, end };
}

function expect(e: Element, tag: number, what: string): Element {
  if (e.tag !== tag) throw new TypeError(`certificate: expected ${what}`);
  return e;
}

export function certificateValidity(der: Uint8Array): CertificateValidity {
  const certificate = expect(element(der, 0, der.length), SEQUENCE, "a Certificate SEQUENCE");
  const tbs = expect(element(der, certificate.start, certificate.end), SEQUENCE, "a TBSCertificate SEQUENCE");
  let serial = element(der, tbs.start, tbs.end);
  if (serial.tag === CONTEXT_0) serial = element(der, serial.end, tbs.end); // [0] version comes first when present
  const signature = element(der, serial.end, tbs.end);
  const issuer = element(der, signature.end, tbs.end);
  const validity = expect(element(der, issuer.end, tbs.end), SEQUENCE, "a Validity SEQUENCE");
  const notBefore = element(der, validity.start, validity.end);
  const notAfter = element(der, notBefore.end, validity.end);
  return { notBefore: time(der, notBefore), notAfter: time(der, notAfter) };
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), as epoch ms. */
function time(der: Uint8Array, e: Element): number {
  const text = String.fromCharCode(...der.subarray(e.start, e.end));
  let m: RegExpExecArray | null;
  let year: number;
  if (e.tag === UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (e.tag === GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(m[1]);
  } else {
    throw new TypeError("certificate: validity time is neither UTCTime nor GeneralizedTime in UTC");
  }
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
