import { base64url } from "jose";
import { HandoffOfferSchema, openGrant, sealPreAuthorizedCode } from "./grants";
import { secret, type Env } from "../config/env";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { TOKEN_POLL_INTERVAL_SECONDS } from "./handoff";
import { credentialOffer, credentialOfferReferenceLink, type CredentialOffer } from "./offer";

/**
 * The handoff offer by reference: what the waiting page's QR code encodes.
 *
 * `openid-credential-offer://?credential_offer_uri=<issuer>/offers/<id>`, where <id> is a sealed
 * reference naming the admission. Short (a few hundred characters: a QR code any phone reads off a
 * laptop screen, where the offer by value was about a thousand), short lived (OFFER_REFERENCE_LIFETIME_MS,
 * never past the admission) and fetched once: the first GET claims it in ReplayGuard and answers the
 * offer with a freshly sealed handoff code; any later GET is refused. Every poll mints a new reference,
 * so a reference burnt by someone else costs the person nothing: the page shows the next one. (Nothing is
 * stored per reference until it is fetched: minting is a seal, no Durable Object call.)
 */
export const OFFER_REFERENCE_LIFETIME_MS = 120_000;

export interface HandoffAdmission {
  room: string;
  tid: string;
  ord: [number, number];
  pid: string;
  /** When the admission ends (ms): the handoff code lives as long, the reference never longer. */
  admissionExpiresAt: number;
}

/** A fresh reference to the admission's handoff offer: the wallet link and when it stops working (ms). */
export async function handoffOfferLink(
  env: Env,
  issuer: string,
  admission: HandoffAdmission,
  now: number,
): Promise<{ link: string; expiresAt: number }> {
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const expiresAt = Math.min(now + OFFER_REFERENCE_LIFETIME_MS, admission.admissionExpiresAt);
  const { room, tid, ord, pid } = admission;
  // `ax` in seconds like `exp`; `n` (96 random bits, shorter than a UUID: every character is in the QR
  // code) names this reference for its single use.
  const n = base64url.encode(crypto.getRandomValues(new Uint8Array(12)));
  const id = await seal(
    ring,
    "handoff-offer",
    { room, tid, ord, pid, ax: Math.floor(admission.admissionExpiresAt / 1000), n },
    now,
    expiresAt,
  );
  return { link: credentialOfferReferenceLink(`${issuer}/offers/${id}`), expiresAt };
}

/** GET /offers/:id: the handoff offer, once per reference. Throws 404 not_found for anything else. */
export async function fetchHandoffOffer(env: Env, issuer: string, id: string, now: number): Promise<CredentialOffer> {
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const opened = await openGrant(ring, "handoff-offer", HandoffOfferSchema, id, now);
  const gone = (why: string) =>
    new ApiError("not_found", `${why}: scan the QR code the waiting page shows now`, { extras: { reason: why.replaceAll(" ", "_") } });
  if (!opened.ok) throw gone(opened.reason === "expired" ? "offer expired" : "no such offer");
  const c = opened.claims;
  if (!(await claimOnce(env, "offer", c.n, c.exp * 1000 + 60_000))) throw gone("offer already used");
  // The handoff code: the same admission, bound to no key; /token gives it to an approved wallet only.
  const code = await sealPreAuthorizedCode(ring, { room: c.room, tid: c.tid, ord: c.ord, pid: c.pid, handoff: true }, now, c.ax * 1000);
  return credentialOffer(issuer, code, { interval: TOKEN_POLL_INTERVAL_SECONDS });
}
