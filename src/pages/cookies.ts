/**
 * The cookies that let the waiting page refresh without JavaScript. After a join, the page's script
 * stores the ticket (and the position at join, for the progress bar) in cookies scoped to the room's
 * page; the server reads them on the next load and renders the status exactly as a poll would.
 *
 * Why not HttpOnly: the script must hold the ticket anyway (it is the bearer of every poll the SDK
 * makes, and it is what the script resumes with after a reload), so hiding the cookie from script
 * protects nothing. What a stolen ticket gives is bounded: it shows a place in line; redeeming the
 * admission needs DPoP proofs by the device key, which is non-extractable in IndexedDB, and the person
 * identifier inside it is sealed. SameSite=Strict keeps it out of cross-site requests, Path keeps it to
 * this room's page, Secure on https.
 */
export const TICKET_COOKIE = "antichambre_ticket";
export const START_COOKIE = "antichambre_start";

export function roomPagePath(room: string): string {
  return `/rooms/${room}`;
}

/** `name=value; Path=/rooms/{room}; Max-Age=…; SameSite=Strict[; Secure]` (Max-Age 0 deletes). */
export function setCookieValue(name: string, value: string, options: { room: string; maxAgeSeconds: number; secure: boolean }): string {
  const parts = [
    `${name}=${value}`,
    `Path=${roomPagePath(options.room)}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    "SameSite=Strict",
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** The position at join as stored in START_COOKIE, or null if absent or not a positive integer. */
export function parseStart(value: string | undefined | null): number | null {
  if (!value || !/^\d{1,9}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 ? n : null;
}
