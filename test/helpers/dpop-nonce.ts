import { env } from "cloudflare:workers";
import type { Env } from "../../src/config/env";
import { withDevSecrets } from "../../src/dev/secrets";
import { currentDpopNonce } from "../../src/oauth/dpop-nonce";
import { clock } from "../../src/lib/clock";

/**
 * DPoP server nonces as a wallet handles them (RFC 9449 §8–9): remember the latest `DPoP-Nonce` any
 * answer carried, put it in the next proof, and when an answer is `use_dpop_nonce` send the request
 * once more with the nonce that answer carried.
 */
let latest: string | undefined;

function rememberDpopNonce(res: Response): void {
  const nonce = res.headers.get("dpop-nonce");
  if (nonce) latest = nonce;
}

/** `send` builds a fresh request (fresh proof) for the nonce it is given. */
export async function sendWithDpopNonce(send: (nonce: string | undefined) => Promise<Response>): Promise<Response> {
  const first = await send(latest);
  rememberDpopNonce(first);
  if (!(await asksForNonce(first))) return first;
  await first.arrayBuffer();
  const again = await send(latest);
  rememberDpopNonce(again);
  return again;
}

async function asksForNonce(res: Response): Promise<boolean> {
  if (res.status !== 400 && res.status !== 401) return false;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { error?: unknown } | null;
  return body?.error === "use_dpop_nonce";
}

/** The nonce the server hands out now, for tests that build their proofs by hand about something else. */
export function serverDpopNonce(): Promise<string> {
  return currentDpopNonce(withDevSecrets(env as unknown as Env), clock.now());
}
