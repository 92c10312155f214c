/**
 * Standard (not url-safe) base64 of bytes, as PEM bodies, `x5c` certificates and `data:` URLs carry them.
 * Chunked: String.fromCharCode(...bytes) overflows the argument limit for large inputs.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
