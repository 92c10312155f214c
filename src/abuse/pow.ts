/**
 * The proof-of-work puzzle, as the service checks it: find a `solution` such that
 * SHA-256(UTF-8(challenge) || UTF-8(solution)) starts with `bits` zero bits. Expected work: 2^bits hashes
 * for the solver, one hash for the verifier. The client SDK solves the same definition
 * (client/proof-of-work.ts); test/unit/pow.test.ts checks the two agree.
 */

/** What a solution may look like: short, URL-safe, so it costs nothing to carry or to hash. */
export const POW_SOLUTION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** No deployment may ask more than this of a phone (2^24 ≈ 17 million hashes: minutes in JavaScript). */
export const MAX_POW_BITS = 24;

/** Leading zero bits of a digest. */
export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export async function powDigest(challenge: string, solution: string): Promise<Uint8Array> {
  const input = new TextEncoder().encode(challenge + solution);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

export async function meetsDifficulty(challenge: string, solution: string, bits: number): Promise<boolean> {
  if (!POW_SOLUTION_PATTERN.test(solution)) return false;
  return leadingZeroBits(await powDigest(challenge, solution)) >= bits;
}
