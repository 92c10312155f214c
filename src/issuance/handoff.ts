import { secret, type Env } from "../config/env";
import { handoffGuard, handoffKey, reserveAttempt } from "../edge/replay";
import { ApiError } from "../http/problem";
import { hmacKeyring } from "../tickets/keyring";

/**
 * Handing an admission to another device: a wallet on a phone scanning the QR code shown by the web page
 * (docs/threats/handoff.md).
 *
 * The app's own offer is bound to the key of the device that joined. A person who waited in a browser
 * needs the credential in a wallet elsewhere, so each admission also has a *handoff* offer whose
 * pre-authorized code is bound to no key. Whoever holds that code still gets no token until the waiting
 * page approves their wallet's key:
 *
 * 1. The wallet redeems the handoff code at /token with its DPoP key W: it is told `authorization_pending`
 *    with a short confirmation code, which it shows to its user, and polls /token again.
 * 2. The person types that code into the waiting page, which approves it with a request signed by the
 *    ticket's device key (a DPoP proof, `ath` = hash of the ticket). The code names exactly one pending
 *    key: W is now the handoff's approved key, and its next /token succeeds.
 *
 * A photo, screenshot or screen share of the page gives the QR code, never an approval: the code that
 * unlocks a wallet is shown on that wallet, and only the page's key can approve it. Someone who sees only
 * the QR cannot spend the approvals either (each needs the device key), nor crowd out the real wallet
 * (pending keys are capped, the most recently active kept).
 *
 * State lives in the ReplayGuard of `handoff:${room}:${tid}` (durable-objects/replay-guard.ts): pending
 * keys with their codes, the approved key, and the approvals attempted (reserved before comparing).
 */

/** Unambiguous when read aloud or off a small screen: no 0/O, 1/I/L. */
export const CONFIRMATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const CONFIRMATION_CODE_LENGTH = 6;
/** Approvals per admission, right or wrong, however many are sent at once. */
export const MAX_APPROVAL_ATTEMPTS = 5;
/** Wallet keys waiting for approval per admission; the most recently active are kept. */
export const MAX_PENDING_WALLETS = 10;
/** Seconds a wallet waits between two token requests while pending (OpenID4VCI `interval`). */
export const TOKEN_POLL_INTERVAL_SECONDS = 3;
/** How long a wallet that stopped asking stays approvable. */
export const PENDING_LIFETIME_MS = 10 * 60 * 1000;
/** How long the approval and the attempt count are kept: longer than any admission lasts. */
const HANDOFF_RETENTION_MS = 24 * 3600 * 1000;

/**
 * The code a wallet key is shown: HMAC(ticket key, room + ticket id + key thumbprint) over the alphabet.
 * Derived rather than random so that a wallet evicted from the pending list (by a flood of strangers'
 * keys) comes back with the code its user already typed. Unpredictable without the service's key, and
 * different per admission and per wallet key. (Modulo bias over 31 letters from 32 bits is negligible.)
 */
async function confirmationCode(env: Env, room: string, tid: string, jkt: string): Promise<string> {
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", ring.signing.key, new TextEncoder().encode(`handoff-confirmation:${room}:${tid}:${jkt}`)),
  );
  let code = "";
  for (let i = 0; i < CONFIRMATION_CODE_LENGTH; i++) {
    const n = new DataView(mac.buffer, i * 4, 4).getUint32(0);
    code += CONFIRMATION_ALPHABET[n % CONFIRMATION_ALPHABET.length];
  }
  return code;
}

/** What a person typed, made comparable: case and separators ignored; null if it cannot be a code. */
export function normalizeConfirmationCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, "");
  return code.length === CONFIRMATION_CODE_LENGTH && [...code].every((ch) => CONFIRMATION_ALPHABET.includes(ch)) ? code : null;
}

/**
 * At /token, for a handoff code redeemed with wallet key `jkt`: returns when the waiting page approved
 * this key; otherwise records the key as pending and throws `authorization_pending` carrying the
 * `confirmation_code` to show and the `interval` to wait before asking again (with a new DPoP proof).
 */
export async function requireHandoffApproval(env: Env, input: { room: string; tid: string; jkt: string; now: number }): Promise<void> {
  const { room, tid, jkt, now } = input;
  const code = await confirmationCode(env, room, tid, jkt);
  const { key, guard } = await handoffGuard(env, room, tid);
  const state = await guard.handoffRequest(key, jkt, code, now, now + PENDING_LIFETIME_MS, MAX_PENDING_WALLETS);
  if (state.approved) return;
  throw new ApiError(
    "authorization_pending",
    "show the confirmation code to the person, who approves it on the waiting page; then ask again",
    {
      extras: { confirmation_code: state.code, interval: TOKEN_POLL_INTERVAL_SECONDS },
    },
  );
}

export interface Approval {
  /** The wallet key now allowed to redeem the handoff. */
  jkt: string;
  attemptsLeft: number;
}

/**
 * The waiting page approves the wallet showing `code`. The caller has verified that the request is the
 * ticket holder's (DPoP by the ticket's key) and that the ticket is admitted. Every call, right or wrong,
 * first reserves one of MAX_APPROVAL_ATTEMPTS for this admission, so concurrent guesses get no more
 * comparisons than sequential ones. `code` is normalized already (normalizeConfirmationCode).
 */
export async function approveHandoff(env: Env, input: { room: string; tid: string; code: string; now: number }): Promise<Approval> {
  const { room, tid, code, now } = input;
  const attempt = await reserveAttempt(env, "handoff", `${room}:${tid}`, MAX_APPROVAL_ATTEMPTS, now + HANDOFF_RETENTION_MS);
  if (attempt === null) {
    throw new ApiError("forbidden", "too many approval attempts for this admission: collect the licence with the app on this device", {
      extras: { reason: "too_many_attempts", attempts_left: 0 },
    });
  }
  const attemptsLeft = MAX_APPROVAL_ATTEMPTS - attempt;
  const { guard } = await handoffGuard(env, room, tid);
  const result = await guard.handoffApprove(handoffKey(room, tid), code, now, now + HANDOFF_RETENTION_MS);
  if (result.ok) return { jkt: result.value.jkt, attemptsLeft };
  if (result.reason === "ambiguous") {
    throw new ApiError("conflict", "two wallets show this code: scan the QR code again with your wallet, then type its new code", {
      extras: { reason: "ambiguous_code", attempts_left: attemptsLeft },
    });
  }
  throw new ApiError("bad_request", `no wallet is waiting with this code (${attemptsLeft} attempt${attemptsLeft === 1 ? "" : "s"} left)`, {
    extras: { reason: "wrong_code", attempts_left: attemptsLeft },
  });
}
