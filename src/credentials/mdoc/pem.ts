import { bytesToBase64 } from "../../lib/base64";

/**
 * PEM ⇄ DER for certificates kept in secrets (MDOC_DS_CERT, IACA_CERT). Plain atob/btoa: this runs in
 * workerd, where there is no Buffer.
 */

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every block with the given label, in order (a chain file holds the leaf first). */
export function pemToDerAll(pem: string, label = "CERTIFICATE"): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [, found, body] of pem.matchAll(BLOCK)) {
    if (found === label) out.push(base64ToBytes((body ?? "").replace(/\s+/g, "")));
  }
  return out;
}

/** The first block with the given label; throws when there is none, so a bad secret fails loudly. */
export function pemToDer(pem: string, label = "CERTIFICATE"): Uint8Array {
  const [der] = pemToDerAll(pem, label);
  if (!der) throw new TypeError(`PEM: no ${label} block`);
  return der;
}

export function derToPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = bytesToBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function base64ToBytes(b64: string): Uint8Array {
  // atob accepts some malformed input (missing padding); reject anything that is not strict base64.
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
    throw new TypeError("PEM: body is not base64");
  }
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
