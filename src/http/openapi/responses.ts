import { z } from "zod";
import type { EventPhase } from "../../admission/event";
import type { PublicLottery } from "../../admission/lottery";
import type { RoomState } from "../../admission/snapshot";
import { RoomConfigSchema } from "../../config/room-config";
import type { CredentialResponse } from "../../issuance/credential";
import type { DeferredResponse } from "../../issuance/deferred";
import type { TokenResponse } from "../../issuance/token";
import type { AuthorizationCodeTokenResponse } from "../../issuance/authorization-code";
import type { PushedRequest } from "../../oauth/par";
import type { CredentialOffer } from "../../issuance/offer";
import type { PublicRoomView } from "../../routes/rooms";
import type { TicketBody } from "../../routes/tickets";

/**
 * The JSON bodies the API answers, as zod schemas: the OpenAPI document's response schemas are generated
 * from these (document.ts), and test/helpers/openapi-check.ts validates real answers against that
 * document. The handlers build their bodies from TypeScript types; the `Agrees` checks at the bottom
 * make `tsc` fail when a type and its schema drift apart, so the document cannot silently lie.
 *
 * Objects are strict (`additionalProperties: false`) where the service controls every member, so a
 * member added to an answer without being documented fails the conformance test. Metadata documents
 * that other specs let grow (JWKs, issuer metadata) stay open.
 */

const Instant = z.iso.datetime({ offset: true });
const Seconds = z.number().int().min(0);
/** A wallet deep link: the offer by value or by reference. */
const OfferLink = z.string().regex(/^openid-credential-offer:\/\/\?credential_offer(_uri)?=/);

/** RFC 9457 problem document; OAuth-family kinds also carry `error` / `error_description`. Extras vary by kind. */
export const ProblemSchema = z.looseObject({
  type: z.string().regex(/^urn:antichambre:problem:[a-z-]+$/),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  error: z.string().optional(),
  error_description: z.string().optional(),
  reason: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() }).strict()).optional(),
});

export const CredentialOfferSchema = z
  .object({
    credential_issuer: z.url(),
    credential_configuration_ids: z.array(z.string()).min(1),
    grants: z
      .object({
        "urn:ietf:params:oauth:grant-type:pre-authorized_code": z
          .object({ "pre-authorized_code": z.string().min(1), interval: z.number().int().min(1).optional() })
          .strict(),
      })
      .strict(),
  })
  .strict();

export const TicketWaitingSchema = z
  .object({
    status: z.literal("waiting"),
    position: z.number().int().min(1).nullable().describe("1 is next; null for a pre-queue entrant before the draw"),
    lottery_at: Instant.optional().describe("a pre-queue entrant: when the lottery places them"),
    estimated_wait_seconds: z.number().min(0).nullable().describe("null while the room is paused"),
    poll_after_seconds: Seconds,
  })
  .strict();

export const TicketAdmittedSchema = z
  .object({
    status: z.literal("admitted"),
    admission: z
      .object({
        admitted_at: Instant,
        credential_offer: CredentialOfferSchema,
        credential_offer_uri: OfferLink,
        admission_token: z.string(),
        handoff: z.object({ credential_offer_uri: OfferLink, expires_at: Instant }).strict(),
      })
      .strict(),
    admission_expires_at: Instant,
  })
  .strict();

export const TicketExpiredSchema = z.object({ status: z.literal("expired") }).strict();

/** The poll's answer. */
export const TicketStatusSchema = z.discriminatedUnion("status", [TicketWaitingSchema, TicketAdmittedSchema, TicketExpiredSchema]);

/** The join's answer: the poll's, plus the ticket to poll with. */
const ticketMember = { ticket: z.string().describe("the queue ticket: send it as a Bearer token to poll") };
export const JoinResponseSchema = z.discriminatedUnion("status", [
  TicketWaitingSchema.extend(ticketMember),
  TicketAdmittedSchema.extend(ticketMember),
  TicketExpiredSchema.extend(ticketMember),
]);

export const HandoffApprovalSchema = z.object({ status: z.literal("approved"), attempts_left: z.number().int().min(0) }).strict();

export const ChallengeSchema = z
  .object({
    challenge: z.string(),
    difficulty: z.number().int().min(0),
    expires_at: Instant,
    algorithm: z.literal("sha256-leading-zero-bits"),
  })
  .strict();

const RoomStateSchema = z.enum(["open", "queueing", "paused", "closed"]);
const EventPhaseSchema = z.enum(["none", "before", "prequeue", "live", "ended"]);

export const PublicRoomSchema = z
  .object({
    room: z.string(),
    state: RoomStateSchema,
    waiting: z.number().int().min(0),
    admitted_per_minute: z.number().min(0),
    estimated_wait_seconds: z.number().min(0).nullable(),
    event: z
      .object({
        phase: EventPhaseSchema,
        prequeue_start: z.string(),
        event_start: z.string(),
        event_end: z.string().nullable(),
        lottery_commitment: z.string().nullable(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const PublicLotterySchema = z
  .object({
    prequeue_start: Instant,
    event_start: Instant,
    commitment: z.string(),
    committed_at: Instant,
    seed: z.string().nullable(),
    revealed_at: Instant.nullable(),
    entrants: z
      .object({
        total: z.number().int().min(0),
        ranges: z.array(
          z
            .object({ shard: z.number().int(), first: z.number().int(), last: z.number().int(), excluded: z.array(z.number().int()) })
            .strict(),
        ),
      })
      .strict()
      .nullable(),
    withdrawn_at: Instant.nullable(),
  })
  .strict();

/** The configured event's lottery at the top level (for older readers), and every lottery in `lotteries`. */
export const RoomLotterySchema = PublicLotterySchema.extend({
  room: z.string(),
  algorithm: z.string(),
  lotteries: z.array(PublicLotterySchema),
});

export const RoomConfiguredSchema = z.object({ room: z.string(), config: RoomConfigSchema }).strict();
export const LotteryRevealedSchema = z.object({ room: z.string(), lottery: PublicLotterySchema }).strict();

/**
 * Live statistics for operators. The members dashboards read are listed; it stays open because it grows
 * with each operator feature and generated clients should not break on a new counter.
 */
export const RoomStatsSchema = z.looseObject({
  room: z.string(),
  config: RoomConfigSchema,
  waiting: z.number().int().min(0),
  admitted_total: z.number().int().min(0),
  active: z.number().int().min(0),
  sessions_open: z.number().int().min(0),
  admitted_last_minute: z.number().int().min(0),
  observed_admissions_per_second: z.number().nullable(),
  oldest_waiting_age_seconds: z.number().nullable(),
  frontier: z.object({ a: z.number(), b: z.number() }),
  shards: z.array(z.object({ shard: z.number().int(), tickets: z.number().int(), admitted: z.number().int(), waiting: z.number().int() })),
  last_tick_error: z.string().nullable(),
  effective: z.looseObject({ queueing_method: z.string(), new_users_per_minute: z.number(), total_active_users: z.number() }),
  event: z.looseObject({ phase: EventPhaseSchema, lottery: PublicLotterySchema.nullable() }),
});

/** This isolate's view of the protected register (counters and a latency histogram); open like the stats. */
export const RegisterMetricsSchema = z.looseObject({
  reads: z.number().int().min(0),
  found: z.number().int().min(0),
  not_found: z.number().int().min(0),
  errors: z.number().int().min(0),
  busy: z.number().int().min(0),
  in_flight: z.number().int().min(0),
  max_in_flight: z.number().int().min(0),
  waiting: z.number().int().min(0),
});

export const RegisterDrillAnswerSchema = z.object({ simulated_latency_ms: z.number().int().min(0) }).strict();

export const TokenResponseSchema = z.object({ access_token: z.string(), token_type: z.literal("DPoP"), expires_in: Seconds }).strict();
/** The authorization code grant's answer: with authorization_details when the request used them (OpenID4VCI 1.0 §6.2). */
export const AuthorizationCodeTokenResponseSchema = TokenResponseSchema.extend({
  authorization_details: z
    .array(
      z
        .object({
          type: z.literal("openid_credential"),
          credential_configuration_id: z.string(),
          credential_identifiers: z.array(z.string()),
        })
        .strict(),
    )
    .optional(),
}).strict();
/** RFC 9126 §2.2. */
export const PushedAuthorizationResponseSchema = z.object({ request_uri: z.string(), expires_in: Seconds }).strict();
export const NonceResponseSchema = z.object({ c_nonce: z.string() }).strict();
export const CredentialResponseSchema = z
  .object({ credentials: z.array(z.object({ credential: z.string() }).strict()).min(1), notification_id: z.string() })
  .strict();

export const DeferredResponseSchema = z.object({ transaction_id: z.string(), interval: z.number().int().min(1) }).strict();

const JwkSchema = z.looseObject({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional(), crv: z.string().optional() });
export const JwksSchema = z.looseObject({ keys: z.array(JwkSchema) });

export const CredentialIssuerMetadataSchema = z.looseObject({
  credential_issuer: z.url(),
  authorization_servers: z.array(z.url()),
  credential_endpoint: z.url(),
  nonce_endpoint: z.url(),
  deferred_credential_endpoint: z.url(),
  notification_endpoint: z.url(),
  batch_credential_issuance: z.object({ batch_size: z.number().int().min(1) }),
  credential_configurations_supported: z.record(z.string(), z.looseObject({ format: z.string() })),
});

export const AuthorizationServerMetadataSchema = z.looseObject({
  issuer: z.url(),
  token_endpoint: z.url(),
  grant_types_supported: z.array(z.string()),
  dpop_signing_alg_values_supported: z.array(z.string()),
});

export const JwtVcIssuerMetadataSchema = z.looseObject({ issuer: z.url(), jwks: JwksSchema });

export const IacasSchema = z.object({ iacas: z.array(z.object({ certificate: z.base64() }).strict()).min(1) }).strict();

/** This document itself: an OpenAPI 3.1 object (its own structure is checked by test/http/openapi.test.ts). */
export const OpenApiDocumentSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

/*
 * Type agreement, checked by `tsc` only (nothing here runs): what each handler's TypeScript type allows
 * must be what its schema accepts. A new member on a type without its schema fails to compile.
 */
type Agrees<Type, Schema extends z.ZodType> = [Type] extends [z.output<Schema>]
  ? [z.output<Schema>] extends [Type]
    ? true
    : false
  : false;
type Holds<T extends true> = T;
/** One way only, for types with readonly arrays (a schema's arrays are mutable): every value the schema accepts is one of the type's. */
type Within<Type, Schema extends z.ZodType> = [z.output<Schema>] extends [Type] ? true : false;
type _ResponseSchemasAgree = [
  Holds<Agrees<TicketBody, typeof TicketStatusSchema>>,
  Holds<Agrees<CredentialOffer, typeof CredentialOfferSchema>>,
  Holds<Agrees<PublicRoomView, typeof PublicRoomSchema>>,
  Holds<Within<PublicLottery, typeof PublicLotterySchema>>,
  Holds<Agrees<TokenResponse, typeof TokenResponseSchema>>,
  Holds<Agrees<AuthorizationCodeTokenResponse, typeof AuthorizationCodeTokenResponseSchema>>,
  Holds<Agrees<PushedRequest, typeof PushedAuthorizationResponseSchema>>,
  Holds<Agrees<CredentialResponse, typeof CredentialResponseSchema>>,
  Holds<Agrees<DeferredResponse, typeof DeferredResponseSchema>>,
  Holds<Agrees<RoomState, typeof RoomStateSchema>>,
  Holds<Agrees<EventPhase, typeof EventPhaseSchema>>,
];

/** A credential status change by an operator (src/lifecycle/operations.ts): what it did, entry by entry. */
const StatusValueSchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const ListEntrySchema = z.object({ list: z.string(), idx: z.number().int().min(0), status: StatusValueSchema }).strict();
export const LifecycleChangeSchema = z
  .object({
    action: z.enum(["suspend", "reinstate", "revoke"]),
    status: StatusValueSchema,
    target: z.union([
      z.object({ kind: z.literal("person"), pseudonym: z.string() }).strict(),
      z.object({ kind: z.literal("credential"), list: z.string(), idx: z.number().int().min(0) }).strict(),
    ]),
    changed: z.number().int().min(0),
    unchanged: z.number().int().min(0),
    revoked_kept: z.number().int().min(0),
    credentials: z.array(ListEntrySchema),
  })
  .strict();

/** A page of the audit log, newest first; `next` is the `before` of the next (older) page. */
export const AuditPageSchema = z
  .object({
    entries: z.array(
      z
        .object({
          seq: z.number().int().min(1),
          at: z.string(),
          actor: z.string(),
          action: z.enum(["suspend", "reinstate", "revoke"]),
          target: z.union([
            z.object({ kind: z.literal("person"), pseudonym: z.string() }).strict(),
            z.object({ kind: z.literal("credential"), list: z.string(), idx: z.number().int().min(0) }).strict(),
          ]),
          count: z.number().int().min(0),
          reason: z.string().nullable(),
        })
        .strict(),
    ),
    next: z.string().nullable(),
  })
  .strict();
