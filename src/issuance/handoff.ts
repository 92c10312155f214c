import type { HmacKeyring } from "../tickets/keyring";

/**
 * Handing an admission to another device: a wallet on a phone scanning the QR code shown by the web page.
 *
 * The app's own offer is bound to the key of the device that joined (the token endpoint refuses any
 * other key). A person who waited in a browser needs the credential in a wallet elsewhere, so each
 * admission also carries a *handoff* offer: its pre-authorized code is not bound to a key but demands a
 * transaction code (OpenID4VCI tx_code), six digits shown only to the ticket holder next to the QR code.
 * Whoever photographs the QR code over a shoulder still lacks the digits; guessing them is bounded by
 * MAX_TX_CODE_ATTEMPTS per admission, right or wrong, however many are sent at once (then the handoff
 * code is dead; the device-bound one still works).
 * Either code starts the one session of the admission: the first redemption wins.
 *
 * The digits are derived, not stored: HMAC(ticket key, room + ticket id), so every poll shows the same
 * ones and a key rotation keeps old admissions redeemable while the previous key still verifies.
 */
export const TX_CODE_LENGTH = 6;
export const MAX_TX_CODE_ATTEMPTS = 5;

async function digits(key: CryptoKey, room: string, ticketId: string): Promise<string> {
  const mac = new DataView(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`tx-code:${room}:${ticketId}`)));
  return String(mac.getUint32(0) % 10 ** TX_CODE_LENGTH).padStart(TX_CODE_LENGTH, "0");
}

export function handoffTxCode(ring: HmacKeyring, room: string, ticketId: string): Promise<string> {
  return digits(ring.signing.key, room, ticketId);
}

/** Whether `given` is the admission's code under any key of the ring (compared without early exit). */
export async function txCodeMatches(ring: HmacKeyring, room: string, ticketId: string, given: string): Promise<boolean> {
  if (!/^[0-9]{6}$/.test(given)) return false;
  let match = false;
  for (const key of ring.byKid.values()) {
    const want = await digits(key, room, ticketId);
    let diff = 0;
    for (let i = 0; i < TX_CODE_LENGTH; i++) diff |= want.charCodeAt(i) ^ given.charCodeAt(i);
    match = match || diff === 0;
  }
  return match;
}
