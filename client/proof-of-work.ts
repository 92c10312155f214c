/**
 * Solving the waiting room's proof-of-work challenge on the device (the service's side of the same
 * definition is src/abuse/pow.ts): find a solution such that SHA-256(challenge || solution) starts with
 * `difficulty` zero bits. Expected 2^difficulty hashes; at the service's usual difficulties (10-14 bits)
 * that is a few thousand hashes, tenths of a second on a phone (figures: SECURITY.md).
 *
 * Only WebCrypto (crypto.subtle.digest): browsers, React Native with a WebCrypto polyfill, Node 20 and
 * workerd alike. Digests are asked for in batches, so the platform can run them in parallel, and the
 * solver gives the event loop a turn every `sliceMs` of work, so a page solving on its UI thread keeps
 * rendering and answering input. Abortable through `signal`.
 */
// The puzzle's definition, shared with the service's check (a pure module: no Worker API).
import { leadingZeroBits } from "../src/abuse/pow";

export { leadingZeroBits };

export interface SolveOptions {
  /** Digests requested at once (default 256). */
  batch?: number;
  /** Longest stretch of work between two turns given back to the event loop, in ms (default 40). */
  sliceMs?: number;
  /** Give up after this many hashes (default 2^(difficulty + 6): a 1-in-10^27 bad-luck bound). */
  maxHashes?: number;
  signal?: AbortSignal;
  /** Milliseconds now, for slicing (default performance.now or Date.now). */
  now?: () => number;
}

export interface PowSolution {
  readonly solution: string;
  /** Hashes computed (the work actually done). */
  readonly hashes: number;
  readonly ms: number;
}

/** The most this solver accepts to work on: beyond 24 bits a phone would grind for minutes. */
export const MAX_SOLVABLE_BITS = 24;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function abortError(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error("the operation was aborted");
  e.name = "AbortError";
  return e;
}

export async function solveProofOfWork(challenge: string, difficulty: number, options: SolveOptions = {}): Promise<PowSolution> {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_SOLVABLE_BITS) {
    throw new RangeError(`proof-of-work difficulty ${difficulty} is outside 0…${MAX_SOLVABLE_BITS}`);
  }
  const now = options.now ?? (typeof performance !== "undefined" ? () => performance.now() : () => Date.now());
  const batch = Math.max(1, Math.floor(options.batch ?? 256));
  const sliceMs = options.sliceMs ?? 40;
  const maxHashes = options.maxHashes ?? 2 ** (difficulty + 6);
  const prefix = new TextEncoder().encode(challenge);
  const started = now();
  let sliceStart = started;
  let counter = 0;
  while (counter < maxHashes) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const candidates: string[] = [];
    const digests: Promise<ArrayBuffer>[] = [];
    for (let k = 0; k < batch && counter < maxHashes; k++, counter++) {
      // Base 36: short (at most 5 characters below 2^25) and within the service's solution pattern.
      const solution = counter.toString(36);
      const input = new Uint8Array(prefix.length + solution.length);
      input.set(prefix);
      for (let i = 0; i < solution.length; i++) input[prefix.length + i] = solution.charCodeAt(i);
      candidates.push(solution);
      digests.push(crypto.subtle.digest("SHA-256", input));
    }
    const results = await Promise.all(digests);
    for (let k = 0; k < results.length; k++) {
      if (leadingZeroBits(new Uint8Array(results[k]!)) >= difficulty) {
        return { solution: candidates[k]!, hashes: counter - results.length + k + 1, ms: now() - started };
      }
    }
    if (now() - sliceStart >= sliceMs) {
      await yieldToEventLoop();
      sliceStart = now();
    }
  }
  throw new RangeError(`no proof-of-work solution within ${maxHashes} hashes`);
}
