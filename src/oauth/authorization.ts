import { claimOnce } from "../edge/replay";
import { base64url } from "jose";
import { z } from "zod";
import { ticketStatus, unsyncedAtPoll, type TicketStatus } from "../admission/ticket-status";
import { required, secret, type Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { roomSnapshot } from "../edge/snapshot-cache";
import { noRoom } from "../http/request";
import { personPseudonym } from "../identity/pseudonym";
import { claimPersonSession, freeAdmission } from "../issuance/person-claim";
import { openGrant } from "../issuance/grants";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { placeInLine } from "../tickets/join";
import { TICKET_LIFETIME_SECONDS } from "../tickets/ticket-token";
import { AuthorizationRequestSchema, type AuthorizationRequest } from "./par";
import { authenticationRequestUrl, completeAuthentication, providerConfig, type Fetcher, type IdentityFailure } from "./identity-provider";
import { newCodeVerifier } from "./pkce";

/**
 * The authorization code flow's browser side (docs/authorization-flow.md):
 * /authorize takes the pushed request and an anonymous place in the flow's room; the waiting page shows
 * it until admitted; then, and only then, the browser is sent to the identity provider; its callback
 * names the person, whose one session is claimed, and the wallet gets its code.
 *
 * Why identity after admission: the identity provider then sees at most one login per admission, so
 * its load is bounded by the admission rate like the register's; a browser that waits costs it nothing.
 * The price is that the line holds browsers, not people: one person could wait in several browsers.
 * Each extra place is bounded per address (RATE_LIMIT_JOIN_CLIENT), and when they are admitted the
 * per-person claim lets only one session exist for the person; the others are refused at the identity
 * step and their slots freed at once.
 *
 * State: the browser holds its flow in one sealed cookie (AES-GCM, HttpOnly, SameSite=Lax so it comes
 * back with the provider's top-level redirect, Path=/authorize): the checked authorization request,
 * its place in line and, once admitted, the state, nonce and PKCE verifier of its identity request.
 * Nothing about waiting browsers is stored server-side beyond their place in the queue shard.
 */
export const FLOW_COOKIE = "antichambre_authorization";
export const FLOW_PATH = "/authorize";
/** Where the identity provider sends the browser back (registered with the provider as the redirect URI). */
export const CALLBACK_PATH = "/authorize/callback";
export const WAIT_PATH = "/authorize/wait";
/** An authorization code is redeemed at once by the wallet; two minutes covers a slow network. */
export const AUTHORIZATION_CODE_LIFETIME_SECONDS = 120;

const Place = z.tuple([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
]);

const FlowSchema = z.object({
  req: AuthorizationRequestSchema,
  room: z.string(),
  tid: z.string(),
  ord: Place,
  /** UnsyncedBasis of the join (src/admission/ticket-status.ts), until the room syncs the place. */
  ua: z.object({
    ahead: z.number(),
    toldPosition: z.number().optional(),
    admittedTotal: z.number().optional(),
    uncounted: z.literal(true).optional(),
  }),
  /** The identity request, once admitted: its state, nonce and PKCE verifier. */
  idp: z.object({ st: z.string(), n: z.string(), v: z.string() }).optional(),
  exp: z.number(),
});
export type Flow = z.infer<typeof FlowSchema>;

/** What an authorization code carries (sealed: the wallet cannot read or alter it). */
export const AuthorizationCodeSchema = z.object({
  cid: z.string().min(16).max(64),
  room: z.string(),
  tid: z.string(),
  ord: Place,
  pid: z.string().min(1).max(128),
  /** When the admission expires (ms): bounds the person claim. */
  ax: z.number(),
  req: AuthorizationRequestSchema,
  exp: z.number(),
});

async function ring(env: Env) {
  return hmacKeyring(secret(env, "TICKET_KEYS"));
}

export async function sealFlow(env: Env, flow: Omit<Flow, "exp">, now: number): Promise<string> {
  return seal(await ring(env), "authorization-flow", flow, now, now + TICKET_LIFETIME_SECONDS * 1000);
}

export async function openFlow(env: Env, cookie: string | undefined, now: number): Promise<Flow | null> {
  if (!cookie) return null;
  const opened = await openGrant(await ring(env), "authorization-flow", FlowSchema, cookie, now);
  return opened.ok ? opened.claims : null;
}

/**
 * An anonymous place for this browser in the flow's room. A random browser id stands in for the person
 * (routing to a shard, one place per id); it is never an identity and is not kept anywhere but the
 * place's pseudonym. No proof of work: a browser without JavaScript cannot solve one; the caller bounds
 * these joins per address instead.
 */
export async function takeBrowserPlace(env: Env, request: AuthorizationRequest, now: number): Promise<Omit<Flow, "exp">> {
  const room = settingsOf(env).authorization.room;
  const browserId = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const person = await personPseudonym(required(env, "PSEUDONYM_KEY"), room, `browser:${browserId}`);
  // The shard records a device key per place; a browser has none, so a value of the same shape that
  // names nothing (43 base64url characters, the browser id itself) stands in.
  const placed = await placeInLine(env, { room, person, jkt: browserId.slice(0, 43), now, pow: "not_asked" });
  return {
    req: request,
    room,
    tid: placed.ticketId,
    ord: [placed.held.key.a, placed.held.key.b],
    ua: { ahead: placed.ahead, ...placed.told, ...(placed.uncounted ? { uncounted: true as const } : {}) },
  };
}

/** The browser's place as a poll would read it. */
export async function flowStatus(env: Env, flow: Flow, now: number): Promise<TicketStatus> {
  const snapshot = await roomSnapshot(env, flow.room);
  if (!snapshot) throw noRoom(flow.room);
  const key = { a: flow.ord[0], b: flow.ord[1] };
  return ticketStatus(snapshot, key, now, Math.random(), unsyncedAtPoll(snapshot, key, flow.ua));
}

/**
 * The admitted browser's identity request (made once per flow: a reload sends it to the same request).
 * Returns the flow to store and where to send the browser.
 */
export async function identityRedirect(env: Env, flow: Flow, issuer: string): Promise<{ flow: Omit<Flow, "exp">; location: string }> {
  const config = providerConfig(env);
  const random = () => base64url.encode(crypto.getRandomValues(new Uint8Array(24)));
  const idp = flow.idp ?? { st: random(), n: random(), v: newCodeVerifier() };
  const location = await authenticationRequestUrl(config, {
    redirectUri: `${issuer}${CALLBACK_PATH}`,
    state: idp.st,
    nonce: idp.n,
    verifier: idp.v,
  });
  const { exp: _exp, ...rest } = flow;
  return { flow: { ...rest, idp }, location };
}

/** The answer to send the wallet (RFC 6749 §4.1.2 / §4.1.2.1, RFC 9207 `iss`). */
export type WalletAnswer = { code: string } | { error: "access_denied" | "temporarily_unavailable" | "server_error"; description: string };

export function walletRedirect(request: AuthorizationRequest, issuer: string, answer: WalletAnswer): string {
  const url = new URL(request.ru);
  if ("code" in answer) url.searchParams.set("code", answer.code);
  else {
    url.searchParams.set("error", answer.error);
    url.searchParams.set("error_description", answer.description);
  }
  if (request.st !== undefined) url.searchParams.set("state", request.st);
  url.searchParams.set("iss", issuer);
  return url.toString();
}

const IDENTITY_FAILURES: Partial<Record<IdentityFailure, string>> = {
  provider_unreachable: "the identity service could not be reached; try again",
  provider_refused: "the identity service refused the sign-in",
};

/**
 * The identity provider's callback for an admitted browser: the person identified (the code exchanged,
 * the ID token verified), the person's one session claimed, and the wallet's answer.
 */
export async function completeAuthorization(
  env: Env,
  fetcher: Fetcher,
  input: { flow: Flow; code: string; issuer: string; admissionExpiresAt: number; now: number },
): Promise<WalletAnswer> {
  const { flow, issuer, now } = input;
  const idp = flow.idp!;
  const identity = await completeAuthentication(env, providerConfig(env), fetcher, {
    code: input.code,
    redirectUri: `${issuer}${CALLBACK_PATH}`,
    verifier: idp.v,
    nonce: idp.n,
    now,
  });
  if (!identity.ok) {
    if (identity.reason === "provider_unreachable")
      return { error: "temporarily_unavailable", description: IDENTITY_FAILURES.provider_unreachable! };
    return {
      error: "access_denied",
      description: IDENTITY_FAILURES[identity.reason] ?? `the identity could not be established (${identity.reason.replaceAll("_", " ")})`,
    };
  }
  // One identity step per admitted browser place: replaying this flow's sign-in (same state, nonce and
  // verifier) as other people would otherwise pin each of them to this one admission and its session.
  // Claimed only once an identity is established, so a provider that failed can be tried again.
  if (!(await claimOnce(env, "identity_step", `${flow.room}/${flow.tid}`, input.admissionExpiresAt + 60_000)))
    return { error: "access_denied", description: "this place in line has already been used to sign in; start again from the wallet" };
  const admission = { room: flow.room, ticketId: flow.tid, key: { a: flow.ord[0], b: flow.ord[1] } };
  const claimed = await claimPersonSession(env, {
    admission,
    personId: identity.personId,
    ...(flow.req.jkt !== undefined ? { jkt: flow.req.jkt } : {}),
    admissionExpiresAt: input.admissionExpiresAt,
    now,
  });
  if (!claimed.ok || claimed.resumed) await freeAdmission(env, admission);
  if (!claimed.ok)
    return {
      error: "access_denied",
      description: "this person already has an issuance session in this room (another browser or wallet): continue it there",
    };
  const target = claimed.admission;
  const code = await seal(
    await ring(env),
    "authorization-code",
    {
      cid: crypto.randomUUID(),
      room: target.room,
      tid: target.ticketId,
      ord: [target.key.a, target.key.b],
      pid: identity.personId,
      ax: input.admissionExpiresAt,
      req: flow.req,
    },
    now,
    now + AUTHORIZATION_CODE_LIFETIME_SECONDS * 1000,
  );
  return { code };
}
