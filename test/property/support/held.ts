import fc from "fast-check";
import { calculateJwkThumbprint, decodeJwt } from "jose";
import { hmacKeyring } from "../../../src/tickets/keyring";
import { open } from "../../../src/tickets/sealed";
import { DEV_TICKET_KEYS } from "../../../src/config/dev-defaults";
import { ORIGIN, call, poll, testClock } from "../../helpers/api";
import { flipMiddle } from "./tokens";
import type { World } from "./world";

/**
 * The world's real tokens, to be presented where they do not belong or slightly bent. "Held" is what a
 * client (or a thief) could have: tickets, codes, access tokens, nonces, notification ids, admission
 * tokens; never a server key.
 */
export type HeldName =
  "waiting" | "admitted" | "foreign" | "access" | "code" | "usedCode" | "handoff" | "nonce" | "notification" | "admission";
export type Bend = "none" | "signature" | "payload" | "truncate" | "append" | "case";

export const heldName = fc.constantFrom<HeldName>(
  "waiting",
  "admitted",
  "foreign",
  "access",
  "code",
  "usedCode",
  "handoff",
  "nonce",
  "notification",
  "admission",
);
export const bend = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Bend>("none") },
  { weight: 3, arbitrary: fc.constantFrom<Bend>("signature", "payload", "truncate", "append", "case") },
);

export async function heldTokens(world: World): Promise<Record<HeldName, string>> {
  const admitted = await poll(world.room.name, world.issued.ticket);
  const admission = admitted.body.admission as Record<string, any>;
  // The handoff code, as a wallet that scanned the page's QR code holds it: fetched once by reference.
  const link = admission.handoff?.credential_offer_uri as string | undefined;
  const url = link ? new URLSearchParams(link.slice(link.indexOf("?") + 1)).get("credential_offer_uri") : null;
  const offer = url?.startsWith(ORIGIN) ? ((await (await call(url.slice(ORIGIN.length))).json()) as Record<string, any>) : null;
  const handoff = offer?.grants?.["urn:ietf:params:oauth:grant-type:pre-authorized_code"]?.["pre-authorized_code"] as string | undefined;
  return {
    waiting: world.waiting.ticket,
    admitted: world.issued.ticket,
    foreign: world.foreign.ticket,
    access: world.issued.accessToken,
    code: world.redeemable.code,
    usedCode: world.issued.code,
    handoff: handoff ?? world.issued.code,
    nonce: world.issued.nonce,
    notification: world.issued.notificationId,
    admission: admission.admission_token as string,
  };
}

/** A token bent one way: a changed signature or payload character, cut, extended, upper-cased. */
export function bent(token: string, how: Bend): string {
  const parts = token.split(".");
  switch (how) {
    case "none":
      return token;
    case "signature":
      parts[parts.length - 1] = flipMiddle(parts[parts.length - 1]!);
      return parts.join(".");
    case "payload":
      parts[1] = flipMiddle(parts[1] ?? "");
      return parts.join(".");
    case "truncate":
      return token.slice(0, Math.floor(token.length * 0.7));
    case "append":
      return `${token}.AAAA`;
    case "case":
      return token.toUpperCase();
  }
}

/** The ticket id a ticket stands for (`shard.seq`). */
export function ticketId(ticket: string): string {
  return decodeJwt(ticket).sub!;
}

export function thumbprint(jwk: Parameters<typeof calculateJwkThumbprint>[0]): Promise<string> {
  return calculateJwkThumbprint(jwk, "sha256");
}

/** The ReplayGuard id a c_nonce is claimed under (`nonce:<jti>`), read by opening it as the Worker does. */
export async function nonceKey(cNonce: string): Promise<string> {
  const opened = await open(await hmacKeyring(DEV_TICKET_KEYS), "c-nonce", cNonce, testClock.now());
  if (!opened.ok) throw new Error(`not a c_nonce of ours: ${opened.reason}`);
  return `nonce:${String(opened.claims.jti)}`;
}
