import { z } from "zod";
import { RoomConfigPatchSchema, RoomConfigSchema } from "../../config/room-config";
import {
  ProblemSchema,
  TicketAdmittedSchema,
  TicketExpiredSchema,
  DeferredResponseSchema,
  TicketWaitingSchema,
  CredentialOfferSchema,
  PublicLotterySchema,
  TicketStatusSchema,
} from "./responses";
import { OPERATIONS, PATH_PARAMETERS, type Operation, type SecurityName } from "./operations";

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate requests with and
 * the response schemas in responses.ts, with zod's own JSON Schema output (draft 2020-12, the dialect
 * OpenAPI 3.1 uses). No library on the Worker's path: zod is already there, and the document is built
 * once per isolate on first request (about 11 ms of CPU, docs/api.md), then served from memory. Built at
 * run time rather than at build time so that no generated file can fall out of step with the schemas.
 */

type Json = Record<string, unknown>;

/** Named schemas become `components.schemas` (what Kotlin/Swift generators turn into class names). */
const NAMES = new Map<z.ZodType, string>();

function nameSchemas(): void {
  if (NAMES.size > 0) return;
  // Pieces several answers share are named too, so those answers refer to them instead of repeating them.
  const shared: [string, z.ZodType][] = [
    ["Problem", ProblemSchema],
    ["CredentialOffer", CredentialOfferSchema],
    ["PublicLottery", PublicLotterySchema],
    ["RoomConfig", RoomConfigSchema],
    ["TicketWaiting", TicketWaitingSchema],
    ["TicketAdmitted", TicketAdmittedSchema],
    ["TicketExpired", TicketExpiredSchema],
    ["CredentialDeferred", DeferredResponseSchema],
  ];
  for (const [name, schema] of shared) NAMES.set(schema, name);
  for (const op of OPERATIONS) {
    if (op.body) NAMES.set(op.body.schema, componentName(op.operationId, "Request"));
    for (const answer of Object.values(op.answers)) {
      if (answer.json && !NAMES.has(answer.json)) NAMES.set(answer.json, componentName(op.operationId, "Response"));
    }
  }
  // The PUT body is the patch form of the configuration the answer carries whole.
  NAMES.set(RoomConfigPatchSchema, "RoomConfigPatch");
}

/** `joinRoom` + `Request` → `JoinRoomRequest`. */
function componentName(operationId: string, suffix: string): string {
  return operationId[0]!.toUpperCase() + operationId.slice(1) + suffix;
}

const REF = "#/components/schemas/";

/**
 * Each named schema as JSON Schema, nested named schemas as `$ref`s. Requests are described as zod
 * reads them (`io: "input"`: defaults optional), answers as the service writes them (`io: "output"`).
 */
function componentSchemas(): Json {
  const requests = z.registry<{ id: string }>();
  const answers = z.registry<{ id: string }>();
  const bodies = new Set(OPERATIONS.flatMap((op) => (op.body ? [op.body.schema] : [])));
  for (const [schema, id] of NAMES) (bodies.has(schema) ? requests : answers).add(schema, { id });
  const options = { target: "draft-2020-12" as const, uri: (id: string) => `${REF}${id}`, unrepresentable: "any" as const };
  const out: Json = {};
  for (const [registry, io] of [
    [requests, "input"],
    [answers, "output"],
  ] as const) {
    const { schemas } = z.toJSONSchema(registry, { ...options, io }) as { schemas: Record<string, Json> };
    for (const [id, schema] of Object.entries(schemas)) {
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      out[id] = rest;
    }
  }
  // Generated clients pick the ticket's class by its `status` (zod's JSON Schema has no discriminator).
  const poll = NAMES.get(TicketStatusSchema)!;
  out[poll] = {
    ...(out[poll] as Json),
    discriminator: {
      propertyName: "status",
      mapping: { waiting: `${REF}TicketWaiting`, admitted: `${REF}TicketAdmitted`, expired: `${REF}TicketExpired` },
    },
  };
  return out;
}

function ref(schema: z.ZodType): Json {
  const name = NAMES.get(schema);
  if (!name) throw new Error("every schema an operation uses is named in components");
  return { $ref: `${REF}${name}` };
}

function inline(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Json;
  return rest;
}

/** `/v1/rooms/:room` → `/v1/rooms/{room}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function parameters(op: Operation): Json[] {
  const params: Json[] = [];
  for (const [, name] of op.path.matchAll(/:([A-Za-z_]+)/g)) {
    const p = PATH_PARAMETERS[name!];
    if (!p) throw new Error(`no description for path parameter ${name}`);
    params.push({ name, in: "path", required: true, description: p.description, schema: inline(p.schema) });
  }
  for (const q of op.query ?? []) {
    params.push({
      name: q.name,
      in: "query",
      required: false,
      description: q.description,
      schema: q.array ? { type: "array", items: { type: "string" } } : { type: "string" },
      ...(q.array ? { style: "form", explode: true } : {}),
    });
  }
  if (op.dpop) {
    params.push({
      name: "DPoP",
      in: "header",
      required: true,
      description: "a DPoP proof JWT (RFC 9449) by the device's key",
      schema: { type: "string" },
    });
  }
  return params;
}

function operation(op: Operation): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(op.answers)) {
    const content = answer.json
      ? { "application/json": { schema: ref(answer.json) } }
      : answer.media
        ? Object.fromEntries([answer.media].flat().map((media) => [media, { schema: { type: "string" } }]))
        : undefined;
    const headers = answer.headers
      ? Object.fromEntries(Object.entries(answer.headers).map(([h, description]) => [h, { description, schema: { type: "integer" } }]))
      : undefined;
    responses[status] = { description: answer.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
  }
  for (const status of op.problems) {
    if (!(String(status) in responses)) responses[String(status)] = { $ref: "#/components/responses/Problem" };
  }
  // Anything else (404/405 from routing, 413/414/431 input limits, 5xx) is a problem document too.
  responses.default = { $ref: "#/components/responses/Problem" };
  const params = parameters(op);
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: op.security ? op.security.map((s) => ({ [s]: [] })) : [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body ? { requestBody: { required: true, content: { [op.body.media]: { schema: ref(op.body.schema) } } } } : {}),
    responses,
  };
}

const SECURITY_SCHEMES: Record<SecurityName, Json> = {
  ticketBearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "queue ticket",
    description: "The `ticket` a join answered. Bound to the device key: approving a handoff also needs a DPoP proof by that key.",
  },
  dpopAccessToken: {
    type: "http",
    scheme: "DPoP",
    description: "`Authorization: DPoP <access_token>` from /token, with a `DPoP` proof by the same key carrying `ath` (RFC 9449).",
  },
  adminBearer: {
    type: "http",
    scheme: "bearer",
    description: "The operator's ADMIN_TOKEN. The dashboard's session cookie is accepted too (with the CSRF header on changes).",
  },
};

function buildDocument(): Json {
  nameSchemas();
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    paths[path] = { ...(paths[path] ?? {}), [op.method]: operation(op) };
  }
  return {
    openapi: "3.1.1",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Antichambre",
      version: "0.1.0",
      description:
        "Edge waiting room and OpenID4VCI credential issuer (mdoc mDL and SD-JWT VC). Every refusal is an RFC 9457 problem document (`application/problem+json`); OAuth endpoints add `error`/`error_description`. Development-only routes are not described: no deployment serves them.",
    },
    tags: [
      { name: "queue", description: "joining and polling the waiting room" },
      { name: "rooms", description: "public room state" },
      { name: "issuance", description: "OpenID4VCI pre-authorized code flow" },
      {
        name: "authorization",
        description: "OpenID4VCI authorization code flow (HAIP 1.0): PAR, the queued browser, identity after admission",
      },
      { name: "discovery", description: "metadata and trust anchors" },
      { name: "admin", description: "operators' API" },
      { name: "pages", description: "HTML pages for browsers" },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      responses: {
        Problem: {
          description: "a problem document (RFC 9457)",
          content: { "application/problem+json": { schema: { $ref: `${REF}Problem` } } },
        },
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

let cached: Json | null = null;

/** The document (built on first use, then kept for the isolate's life: it depends on no request). */
export function openApiDocument(): Json {
  cached ??= buildDocument();
  return cached;
}
