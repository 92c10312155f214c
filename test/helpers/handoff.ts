import { SignJWT } from "jose";
import { accessTokenHash } from "../../src/auth/dpop";
import { clock } from "../../src/lib/clock";
import { CONFIRMATION_ALPHABET } from "../../src/issuance/handoff";
import { ORIGIN, call, poll } from "./api";
import type { Device } from "./device";
import { token } from "./wallet";

/**
 * The two sides of a handoff (src/issuance/handoff.ts), over HTTP: a wallet on another phone that
 * scanned the page's QR code (fetches the offer by reference, asks /token), and the waiting page that
 * approves the code the wallet shows (a request signed by the ticket's device key).
 */
export const GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

type Answer = { status: number; body: Record<string, any> };

/** The handoff link of a fresh poll (what the page's QR code encodes now). */
export async function handoffLink(room: string, ticket: string): Promise<string> {
  const { body } = await poll(room, ticket);
  if (body.status !== "admitted") throw new Error(`not admitted: ${JSON.stringify(body)}`);
  return body.admission.handoff.credential_offer_uri as string;
}

/** The URL inside `openid-credential-offer://?credential_offer_uri=…`. */
export function offerUrl(link: string): string {
  const url = new URLSearchParams(link.slice(link.indexOf("?") + 1)).get("credential_offer_uri");
  if (url === null) throw new Error(`no credential_offer_uri in ${link}`);
  return url;
}

/** What a wallet does after scanning: GET the offer. */
export async function fetchOffer(link: string): Promise<Answer> {
  const url = offerUrl(link);
  if (!url.startsWith(ORIGIN)) throw new Error(`offer not on this service: ${url}`);
  const res = await call(url.slice(ORIGIN.length));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Scan and fetch: the handoff's pre-authorized code from a fresh QR code of the page. */
export async function scannedCode(room: string, ticket: string): Promise<string> {
  const offer = await fetchOffer(await handoffLink(room, ticket));
  if (offer.status !== 200) throw new Error(`offer refused: ${JSON.stringify(offer.body)}`);
  return offer.body.grants[GRANT]["pre-authorized_code"] as string;
}

/** A wallet's token request with the handoff code: its answer, and the confirmation code it was shown, if pending. */
export async function askToken(wallet: Device, code: string): Promise<Answer & { confirmation: string | null }> {
  const r = await token(wallet, code);
  return { ...r, confirmation: r.body.error === "authorization_pending" ? (r.body.confirmation_code as string) : null };
}

/** The waiting page approving `code`: bearer ticket + a DPoP proof by `signer` (the ticket's key, or not). */
export async function approve(
  room: string,
  ticket: string | null,
  signer: Device | null,
  code: string,
  o: { ath?: string | null; jti?: string; proof?: string } = {},
): Promise<Answer> {
  const path = `/v1/rooms/${room}/tickets/current/handoff`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ticket !== null) headers.authorization = `Bearer ${ticket}`;
  if (o.proof !== undefined) headers.dpop = o.proof;
  else if (signer !== null)
    headers.dpop = await approvalProof(
      signer,
      path,
      o.ath === undefined ? (ticket === null ? null : await accessTokenHash(ticket)) : o.ath,
      o.jti,
    );
  const res = await call(path, { method: "POST", headers, body: JSON.stringify({ confirmation_code: code }) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

export function approvalProof(signer: Device, path: string, ath: string | null, jti?: string): Promise<string> {
  return new SignJWT({ htm: "POST", htu: `${ORIGIN}${path}`, jti: jti ?? crypto.randomUUID(), ...(ath === null ? {} : { ath }) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: signer.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(signer.privateKey);
}

/** A well-formed confirmation code other than `code`. */
export function otherCode(code: string, shift = 1): string {
  const i = CONFIRMATION_ALPHABET.indexOf(code[0]!);
  return CONFIRMATION_ALPHABET[(i + shift) % CONFIRMATION_ALPHABET.length]! + code.slice(1);
}
