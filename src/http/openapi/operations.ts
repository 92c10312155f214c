import { z } from "zod";
import { RoomConfigPatchSchema, RoomNameSchema } from "../../config/room-config";
import { CredentialRequestSchema } from "../../issuance/credential";
import { DeferredCredentialRequestSchema } from "../../issuance/deferred";
import { NotificationSchema } from "../../issuance/notification";
import { TokenRequestSchema } from "../../issuance/token";
import { AuthorizationCodeTokenRequestSchema } from "../../issuance/authorization-code";
import { ParFormSchema } from "../../oauth/par";
import { RegisterDrillSchema, TicketIdSchema } from "../../routes/admin";
import { LifecycleActionSchema } from "../../routes/admin-lifecycle";
import { CredentialActionSchema, PersonActionSchema } from "../../lifecycle/operations";
import { ChallengeRequestSchema } from "../../routes/challenge";
import { LoginSchema } from "../../routes/dashboard";
import { ApproveBodySchema } from "../../routes/tickets";
import { JoinBodySchema } from "../../tickets/join";
import {
  AuthorizationCodeTokenResponseSchema,
  AuditPageSchema,
  AuthorizationServerMetadataSchema,
  PushedAuthorizationResponseSchema,
  ChallengeSchema,
  CredentialIssuerMetadataSchema,
  CredentialOfferSchema,
  CredentialResponseSchema,
  DeferredResponseSchema,
  HandoffApprovalSchema,
  IacasSchema,
  JoinResponseSchema,
  JwksSchema,
  JwtVcIssuerMetadataSchema,
  LifecycleChangeSchema,
  LotteryRevealedSchema,
  NonceResponseSchema,
  OpenApiDocumentSchema,
  PublicRoomSchema,
  RegisterDrillAnswerSchema,
  RegisterMetricsSchema,
  RoomConfiguredSchema,
  RoomLotterySchema,
  RoomStatsSchema,
  TicketStatusSchema,
  TokenResponseSchema,
} from "./responses";

/**
 * Every operation of the production app, by hand: which schema its request is validated with, what it
 * answers, who may call it. Written as a table rather than inferred from hono because the routes are plain
 * hono handlers (request schemas are applied inside them, after rate limits and in a deliberate order);
 * test/http/openapi.test.ts checks this table against `createApp().routes` both ways, so a route added
 * without an operation (or an operation left behind) fails the suite.
 *
 * The development routes (/v1/dev, added by the development kit only) are left out: no deployment serves them.
 */

export type SecurityName = "ticketBearer" | "dpopAccessToken" | "adminBearer";

type Media =
  | "text/html"
  | "text/plain"
  | "application/x-pem-file"
  | "text/javascript"
  | "text/css"
  | "application/statuslist+jwt"
  | "application/statuslist+cwt";

export interface Answer {
  description: string;
  /** A JSON body described by this (named) schema. */
  json?: z.ZodType;
  /** A non-JSON body: its media type (or the ones it may be). */
  media?: Media | Media[];
  headers?: Record<string, string>;
}

export interface Operation {
  method: "get" | "post" | "put" | "delete";
  /** The hono path, `:param` style. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Any one of these suffices; none means public. */
  security?: SecurityName[];
  /** The request must carry a DPoP proof (RFC 9449) in the `DPoP` header. */
  dpop?: true;
  query?: { name: string; description: string; array?: true }[];
  body?: { media: "application/json" | "application/x-www-form-urlencoded"; schema: z.ZodType };
  answers: Record<number, Answer>;
  /** Statuses answered with a problem document (every operation may also answer 404/405/413/414/431 and 5xx). */
  problems: number[];
}

/** Path parameters, by name. */
export const PATH_PARAMETERS: Record<string, { schema: z.ZodType; description: string }> = {
  room: { schema: RoomNameSchema, description: "room name" },
  ticket: { schema: TicketIdSchema, description: "ticket id SHARD.SEQUENCE (the admission token's sub)" },
  file: { schema: z.string().min(1), description: "asset file name" },
  id: { schema: z.string().min(1), description: "the reference in the offer's credential_offer_uri" },
  action: { schema: LifecycleActionSchema, description: "suspend (status 2), reinstate (0) or revoke (1, final)" },
  list: { schema: z.string().regex(/^\d+-\d+$/), description: "a status list's name: the last segment of a credential's status_list.uri" },
};

const retryAfter = { "Retry-After": "seconds to wait before polling again" };
const html = (description: string): Answer => ({ description, media: "text/html" });

export const OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/par",
    operationId: "pushAuthorizationRequest",
    tag: "authorization",
    summary: "Pushed authorization request (RFC 9126), the only way into /authorize",
    description:
      "Wallet attestation required (`OAuth-Client-Attestation` + `OAuth-Client-Attestation-PoP`, `sub` = `client_id`). PKCE S256, `scope` and/or `authorization_details` of type openid_credential, optional `dpop_jkt` or DPoP proof. The `request_uri` is single use and lives 90 seconds (docs/authorization-flow.md).",
    body: { media: "application/x-www-form-urlencoded", schema: ParFormSchema },
    answers: { 201: { description: "the request_uri", json: PushedAuthorizationResponseSchema } },
    problems: [400, 401, 429, 503],
  },
  {
    method: "get",
    path: "/authorize",
    operationId: "authorize",
    tag: "authorization",
    summary: "Authorization endpoint (browser): takes the pushed request and an anonymous place in the flow's room",
    query: [
      { name: "client_id", description: "the wallet's client_id (its attestation's sub)" },
      { name: "request_uri", description: "from POST /par (single use)" },
      { name: "lang", description: "fr or en; else Accept-Language" },
    ],
    answers: {
      303: { description: "to the waiting page; the place is held by a sealed HttpOnly cookie" },
      400: html("the request cannot go on (missing, expired, used or foreign request_uri): a page, never a redirect"),
    },
    problems: [429, 503],
  },
  {
    method: "get",
    path: "/authorize/wait",
    operationId: "authorizationWaitingPage",
    tag: "authorization",
    summary: "The authorization flow's waiting page (no script; meta refresh); once admitted, a redirect to the identity provider",
    query: [{ name: "lang", description: "fr or en; else Accept-Language" }],
    answers: {
      200: { ...html("still waiting: the page refreshes itself"), headers: retryAfter },
      303: { description: "admitted: to the identity provider; expired: to the wallet's redirect_uri with error=access_denied" },
      400: html("no authorization in progress in this browser"),
    },
    problems: [429, 503],
  },
  {
    method: "get",
    path: "/authorize/callback",
    operationId: "authorizationCallback",
    tag: "authorization",
    summary:
      "The identity provider's redirect back: identity verified, the person's one session claimed, to the wallet with code, state, iss",
    query: [
      { name: "code", description: "the identity provider's authorization code" },
      { name: "state", description: "this flow's state towards the identity provider" },
      { name: "error", description: "the identity provider's error, if any" },
    ],
    answers: {
      303: { description: "to the wallet's redirect_uri: code, state and iss (RFC 9207), or an RFC 6749 §4.1.2.1 error with iss" },
      400: html("no flow in progress, or a state that is not this flow's"),
    },
    problems: [429, 503],
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "getOpenApiDocument",
    tag: "discovery",
    summary: "This OpenAPI 3.1 document",
    answers: { 200: { description: "the document", json: OpenApiDocumentSchema } },
    // 503: a deployment without PUBLIC_ORIGIN (the server it names), like the issuer metadata.
    problems: [503],
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "getJwks",
    tag: "discovery",
    summary: "Public keys of the service's ES256 signers (admission tokens, SD-JWT VCs)",
    answers: { 200: { description: "a JWK Set", json: JwksSchema } },
    problems: [503],
  },
  {
    method: "get",
    path: "/.well-known/openid-credential-issuer",
    operationId: "getCredentialIssuerMetadata",
    tag: "discovery",
    summary: "OpenID4VCI credential issuer metadata",
    answers: { 200: { description: "issuer metadata", json: CredentialIssuerMetadataSchema } },
    problems: [],
  },
  {
    method: "get",
    path: "/.well-known/oauth-authorization-server",
    operationId: "getAuthorizationServerMetadata",
    tag: "discovery",
    summary: "OAuth authorization server metadata (RFC 8414)",
    answers: { 200: { description: "authorization server metadata", json: AuthorizationServerMetadataSchema } },
    problems: [],
  },
  {
    method: "get",
    path: "/.well-known/jwt-vc-issuer",
    operationId: "getJwtVcIssuerMetadata",
    tag: "discovery",
    summary: "SD-JWT VC issuer metadata",
    answers: { 200: { description: "issuer and its keys", json: JwtVcIssuerMetadataSchema } },
    problems: [503],
  },
  {
    method: "get",
    path: "/iaca.pem",
    operationId: "getIacaPem",
    tag: "discovery",
    summary: "The IACA root certificate that anchors every issued mdoc (PEM)",
    answers: { 200: { description: "PEM certificate", media: "application/x-pem-file" } },
    problems: [503],
  },
  {
    method: "get",
    path: "/status-lists/:list",
    operationId: "getStatusList",
    tag: "discovery",
    summary: "A Token Status List (draft-ietf-oauth-status-list): the `uri` of a credential's status.status_list",
    description:
      "Content negotiation: `Accept: application/statuslist+jwt` (the default) or `application/statuslist+cwt`. Two bits per entry: 0 valid, 1 revoked, 2 suspended. Cacheable for the token's `ttl`.",
    answers: {
      200: {
        description: "the Status List Token, signed by the status list signer (its certificate in x5c / x5chain)",
        media: ["application/statuslist+jwt", "application/statuslist+cwt"],
        headers: { "Cache-Control": "public, max-age = the token's ttl" },
      },
    },
    problems: [404, 406, 503],
  },
  {
    method: "get",
    path: "/iacas",
    operationId: "getIacas",
    tag: "discovery",
    summary: "The IACA roots as base64 DER (`mdoc_iacas_uri`)",
    answers: { 200: { description: "IACA certificates", json: IacasSchema } },
    problems: [503],
  },
  {
    method: "post",
    path: "/v1/rooms/:room/tickets",
    operationId: "joinRoom",
    tag: "queue",
    summary: "Join the room's queue (one place per person)",
    description:
      "Needs a DPoP proof by the device key (the ticket is bound to it) and an identity assertion. A room under attack may answer 428 with a proof-of-work challenge; solve it and join again with `pow`. Joining again returns the same place (200).",
    dpop: true,
    body: { media: "application/json", schema: JoinBodySchema },
    answers: {
      201: { description: "a new place", json: JoinResponseSchema, headers: retryAfter },
      200: { description: "the place this person already held", json: JoinResponseSchema, headers: retryAfter },
    },
    problems: [400, 401, 403, 404, 409, 415, 422, 428, 429, 503],
  },
  {
    method: "get",
    path: "/v1/rooms/:room/tickets/current",
    operationId: "pollTicket",
    tag: "queue",
    summary: "The ticket's status: waiting (with position), admitted (with the credential offer), or expired",
    security: ["ticketBearer"],
    answers: { 200: { description: "the ticket's status", json: TicketStatusSchema, headers: retryAfter } },
    problems: [401, 404, 429, 503],
  },
  {
    method: "post",
    path: "/v1/rooms/:room/tickets/current/handoff",
    operationId: "approveHandoff",
    tag: "queue",
    summary: "Approve the wallet on another device that shows this confirmation code",
    description: "The DPoP proof must be by the ticket's own key and carry `ath` (the ticket's hash).",
    security: ["ticketBearer"],
    dpop: true,
    body: { media: "application/json", schema: ApproveBodySchema },
    answers: { 200: { description: "approved", json: HandoffApprovalSchema } },
    // 403: too many approval attempts for this admission; 409: two wallets show the code, or not admitted.
    problems: [400, 401, 403, 404, 409, 415, 422, 429, 503],
  },
  {
    method: "post",
    path: "/v1/rooms/:room/challenge",
    operationId: "getChallenge",
    tag: "queue",
    summary: "A proof-of-work challenge for a join by this device key",
    body: { media: "application/json", schema: ChallengeRequestSchema },
    answers: { 200: { description: "the challenge", json: ChallengeSchema } },
    problems: [400, 404, 415, 422, 429, 503],
  },
  {
    method: "get",
    path: "/v1/rooms/:room",
    operationId: "getRoom",
    tag: "rooms",
    summary: "Public room state (cacheable for a second)",
    answers: { 200: { description: "the room", json: PublicRoomSchema } },
    problems: [404, 503],
  },
  {
    method: "get",
    path: "/v1/rooms/:room/lottery",
    operationId: "getRoomLottery",
    tag: "rooms",
    summary: "Every lottery the room scheduled: commitments, and seeds and entrants once revealed",
    answers: { 200: { description: "the lotteries", json: RoomLotterySchema } },
    problems: [404, 503],
  },
  {
    method: "put",
    path: "/v1/admin/rooms/:room",
    operationId: "configureRoom",
    tag: "admin",
    summary: "Create a room or change its settings",
    security: ["adminBearer"],
    body: { media: "application/json", schema: RoomConfigPatchSchema },
    answers: { 201: { description: "created", json: RoomConfiguredSchema }, 200: { description: "changed", json: RoomConfiguredSchema } },
    problems: [400, 401, 403, 404, 409, 415, 422, 429, 503],
  },
  {
    method: "get",
    path: "/v1/admin/rooms/:room",
    operationId: "getRoomStats",
    tag: "admin",
    summary: "Live statistics of a room",
    security: ["adminBearer"],
    answers: { 200: { description: "statistics", json: RoomStatsSchema } },
    problems: [401, 403, 404, 429, 503],
  },
  {
    method: "post",
    path: "/v1/admin/rooms/:room/lottery/reveal",
    operationId: "revealLottery",
    tag: "admin",
    summary: "Publish the event's lottery seed and entrants (409 before event_start)",
    security: ["adminBearer"],
    answers: { 200: { description: "the revealed lottery", json: LotteryRevealedSchema } },
    problems: [401, 403, 404, 409, 429, 503],
  },
  {
    method: "delete",
    path: "/v1/admin/rooms/:room/sessions/:ticket",
    operationId: "endIssuanceSession",
    tag: "admin",
    summary: "End one admission's issuance session now (its access tokens stop working)",
    security: ["adminBearer"],
    answers: { 204: { description: "ended" } },
    problems: [401, 403, 404, 422, 429, 503],
  },
  {
    method: "get",
    path: "/v1/admin/register",
    operationId: "getRegisterMetrics",
    tag: "admin",
    summary: "The protected register as this isolate sees it",
    security: ["adminBearer"],
    answers: { 200: { description: "register counters", json: RegisterMetricsSchema } },
    problems: [401, 403, 429],
  },
  {
    method: "put",
    path: "/v1/admin/register",
    operationId: "setRegisterLatencyDrill",
    tag: "admin",
    summary: "Development only: slow this isolate's register reads (403 elsewhere)",
    security: ["adminBearer"],
    body: { media: "application/json", schema: RegisterDrillSchema },
    answers: { 200: { description: "the latency now simulated", json: RegisterDrillAnswerSchema } },
    problems: [400, 401, 403, 415, 422, 429],
  },
  {
    method: "post",
    path: "/v1/admin/credentials/by-person/:action",
    operationId: "changePersonCredentials",
    tag: "admin",
    summary: "Suspend, reinstate or revoke every credential of a person (all rooms)",
    description:
      "The person id is pseudonymised on entry and never stored or answered. Revoked credentials stay revoked: a reinstatement " +
      "leaves them (revoked_kept), and 409 when they are all the person has. 404 when nothing was issued to the person. " +
      "Recorded in the audit log; this location's cached status list tokens are purged (others within their ttl).",
    security: ["adminBearer"],
    body: { media: "application/json", schema: PersonActionSchema },
    answers: { 200: { description: "what changed", json: LifecycleChangeSchema } },
    problems: [400, 401, 403, 404, 409, 415, 422, 429, 503],
  },
  {
    method: "post",
    path: "/v1/admin/credentials/by-index/:action",
    operationId: "changeCredentialStatus",
    tag: "admin",
    summary: "Suspend, reinstate or revoke one credential by its status list and index",
    description:
      "`list` is the last path segment of the credential's status_list uri. 404 when no credential has that entry, 409 " +
      "when it is revoked (a revocation is final). Recorded in the audit log.",
    security: ["adminBearer"],
    body: { media: "application/json", schema: CredentialActionSchema },
    answers: { 200: { description: "what changed", json: LifecycleChangeSchema } },
    problems: [400, 401, 403, 404, 409, 415, 422, 429, 503],
  },
  {
    method: "get",
    path: "/v1/admin/audit",
    operationId: "getAuditLog",
    tag: "admin",
    summary: "The audit log of credential status changes, newest first (paged)",
    security: ["adminBearer"],
    query: [
      { name: "limit", description: "entries per page, 1 to 200 (default 50)" },
      { name: "before", description: "the previous page's `next`: entries older than it" },
    ],
    answers: { 200: { description: "a page of the log", json: AuditPageSchema } },
    problems: [401, 403, 422, 429, 503],
  },
  {
    method: "get",
    path: "/v1/admin/metrics",
    operationId: "getMetrics",
    tag: "admin",
    summary: "Prometheus scrape (text exposition format 0.0.4)",
    security: ["adminBearer"],
    query: [{ name: "room", description: "rooms to report (repeatable); DEFAULT_ROOMS if none", array: true }],
    answers: { 200: { description: "metrics", media: "text/plain" } },
    // 400: a malformed room name, or more rooms than one scrape reads.
    problems: [400, 401, 403, 429],
  },
  {
    method: "get",
    path: "/rooms/:room",
    operationId: "getWaitingPage",
    tag: "pages",
    summary: "The waiting page for people on the web (HTML, errors included)",
    query: [{ name: "lang", description: "fr or en; else Accept-Language" }],
    answers: { 200: html("the waiting page"), 404: html("no such room"), 503: html("state unreachable: a page that retries") },
    problems: [],
  },
  {
    method: "get",
    path: "/admin",
    operationId: "getDashboard",
    tag: "pages",
    summary: "The operator dashboard, or the login form (401) without a session",
    query: [{ name: "room", description: "the room to show" }],
    answers: { 200: html("the dashboard"), 401: html("the login form"), 403: html("the admin API is disabled") },
    problems: [],
  },
  {
    method: "post",
    path: "/admin/login",
    operationId: "logIn",
    tag: "pages",
    summary: "Check the admin token and set the dashboard session cookie",
    body: { media: "application/x-www-form-urlencoded", schema: LoginSchema },
    answers: { 303: { description: "logged in: to the dashboard" }, 401: html("wrong token: the login form again") },
    problems: [403, 415, 429],
  },
  {
    method: "post",
    path: "/admin/logout",
    operationId: "logOut",
    tag: "pages",
    summary: "Clear the dashboard session cookie",
    answers: { 303: { description: "logged out: to the login form" } },
    problems: [403],
  },
  {
    method: "get",
    path: "/admin/assets/:file",
    operationId: "getDashboardAsset",
    tag: "pages",
    summary: "The dashboard's stylesheet (content-hashed name; its script is the static asset /static/dashboard.js)",
    answers: { 200: { description: "the stylesheet", media: ["text/css"] } },
    problems: [404],
  },
  {
    method: "get",
    path: "/offers/:id",
    operationId: "getCredentialOffer",
    tag: "issuance",
    summary: "A credential offer by reference (single use): the waiting page's QR code for a wallet on another device",
    answers: { 200: { description: "the credential offer", json: CredentialOfferSchema } },
    problems: [404, 503],
  },
  {
    method: "post",
    path: "/token",
    operationId: "requestToken",
    tag: "issuance",
    summary: "Redeem a pre-authorized code or an authorization code for a DPoP-bound access token (OpenID4VCI 1.0 section 6)",
    description:
      "A handoff wallet gets `authorization_pending` until the waiting page approved its key. A wallet may authenticate with `attest_jwt_client_auth` (the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers); a bad attestation is a 401 `invalid_client`. The `authorization_code` grant (docs/authorization-flow.md) requires the attestation, the PKCE `code_verifier`, the PAR's `redirect_uri` and a DPoP proof with the server nonce; it answers `authorization_details` when the request used them.",
    dpop: true,
    body: { media: "application/x-www-form-urlencoded", schema: z.union([TokenRequestSchema, AuthorizationCodeTokenRequestSchema]) },
    answers: { 200: { description: "the access token", json: z.union([TokenResponseSchema, AuthorizationCodeTokenResponseSchema]) } },
    problems: [400, 401, 429, 503],
  },
  {
    method: "post",
    path: "/nonce",
    operationId: "requestNonce",
    tag: "issuance",
    summary: "A fresh c_nonce for key proofs (single use, five minutes)",
    answers: { 200: { description: "the nonce", json: NonceResponseSchema } },
    problems: [429, 503],
  },
  {
    method: "post",
    path: "/credential",
    operationId: "requestCredential",
    tag: "issuance",
    summary: "Credentials bound to the keys of the proofs (OpenID4VCI 1.0 section 8)",
    security: ["dpopAccessToken"],
    dpop: true,
    body: { media: "application/json", schema: CredentialRequestSchema },
    answers: {
      200: { description: "the credentials", json: CredentialResponseSchema },
      202: {
        description: "deferred: the licence register is at capacity; ask the deferred credential endpoint after `interval` s",
        json: DeferredResponseSchema,
      },
    },
    problems: [400, 401, 415, 429, 503],
  },
  {
    method: "post",
    path: "/deferred_credential",
    operationId: "requestDeferredCredential",
    tag: "issuance",
    summary: "The credentials of a deferred request (OpenID4VCI 1.0 section 9), or 202 again while the register is busy",
    security: ["dpopAccessToken"],
    dpop: true,
    body: { media: "application/json", schema: DeferredCredentialRequestSchema },
    answers: {
      200: { description: "the credentials", json: CredentialResponseSchema },
      202: { description: "still pending: ask again after `interval` s", json: DeferredResponseSchema },
    },
    problems: [400, 401, 415, 429, 503],
  },
  {
    method: "post",
    path: "/notification",
    operationId: "notify",
    tag: "issuance",
    summary: "The wallet's notification (accepted and deleted end the session)",
    security: ["dpopAccessToken"],
    dpop: true,
    body: { media: "application/json", schema: NotificationSchema },
    answers: { 204: { description: "noted" } },
    problems: [400, 401, 415, 429, 503],
  },
];
