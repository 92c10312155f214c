/**
 * Every refusal the API gives is an RFC 9457 problem document (`application/problem+json`).
 *
 * Handlers and middleware throw `ApiError`s; `problemResponse` in `errors.ts`'s single `onError` turns
 * them into responses, so a status code, a problem type and its title are decided in exactly one place
 * per kind of failure, here.
 */
export type ProblemKind =
  | "bad_request"
  | "invalid_json"
  | "validation_failed"
  | "unsupported_media_type"
  | "payload_too_large"
  | "uri_too_long"
  | "headers_too_large"
  | "invalid_dpop_proof"
  | "invalid_ticket"
  | "invalid_identity_assertion"
  | "unauthorized"
  | "admin_disabled"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "not_acceptable"
  | "conflict"
  | "room_closed"
  | "prequeue_not_open"
  | "rate_limited"
  | "pow_required"
  | "not_configured"
  | "temporarily_unavailable"
  | "internal"
  // OAuth 2.0 / RFC 9449 / OpenID4VCI error codes: their problem documents also carry the `error` and
  // `error_description` members those specs define, so OAuth clients and wallets read them as usual.
  | "invalid_request"
  | "invalid_grant"
  | "authorization_pending"
  | "unsupported_grant_type"
  | "invalid_token"
  | "invalid_proof"
  | "invalid_nonce"
  | "unknown_credential_configuration"
  | "invalid_credential_request"
  | "credential_request_denied"
  | "invalid_notification_id"
  | "invalid_notification_request";

interface KindInfo {
  status: number;
  title: string;
  /** An OAuth-family error: add `error` / `error_description`. */
  oauth?: true;
}

const KINDS: Record<ProblemKind, KindInfo> = {
  bad_request: { status: 400, title: "Bad request" },
  invalid_json: { status: 400, title: "Body is not valid JSON" },
  validation_failed: { status: 422, title: "Request failed validation" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  payload_too_large: { status: 413, title: "Request body too large" },
  // Before anything is parsed (src/http/input-limits.ts).
  uri_too_long: { status: 414, title: "Request URL too long" },
  headers_too_large: { status: 431, title: "Request headers too large" },
  invalid_dpop_proof: { status: 401, title: "Invalid DPoP proof" },
  invalid_ticket: { status: 401, title: "Invalid queue ticket" },
  invalid_identity_assertion: { status: 401, title: "Invalid identity assertion" },
  unauthorized: { status: 401, title: "Missing or wrong credentials" },
  admin_disabled: { status: 403, title: "Admin API disabled" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  not_acceptable: { status: 406, title: "Not acceptable" },
  conflict: { status: 409, title: "Conflict" },
  room_closed: { status: 503, title: "Room not accepting arrivals" },
  // A scheduled event whose pre-queue has not opened: with `prequeue_opens_at` and a Retry-After until
  // then. A 409 (the room's state refuses the join), not a 503: nothing is wrong, and generic clients
  // must not retry it every few seconds.
  prequeue_not_open: { status: 409, title: "Pre-queue not open yet" },
  // With Retry-After; per ticket, device key or client address (src/edge/rate-limits.ts).
  rate_limited: { status: 429, title: "Too many requests" },
  // The join must carry a solved proof-of-work challenge; the refusal carries a fresh one (src/edge/proof-of-work.ts).
  pow_required: { status: 428, title: "Proof of work required" },
  not_configured: { status: 503, title: "Service not configured" },
  temporarily_unavailable: { status: 503, title: "Temporarily unavailable" },
  internal: { status: 500, title: "Internal error" },
  invalid_request: { status: 400, title: "Invalid request", oauth: true },
  invalid_grant: { status: 400, title: "Invalid grant", oauth: true },
  // OpenID4VCI 1.0 token error: a handoff code waits for the admitted page to approve the wallet's key.
  authorization_pending: { status: 400, title: "Authorization pending", oauth: true },
  unsupported_grant_type: { status: 400, title: "Unsupported grant type", oauth: true },
  invalid_token: { status: 401, title: "Invalid access token", oauth: true },
  invalid_proof: { status: 400, title: "Invalid key proof", oauth: true },
  invalid_nonce: { status: 400, title: "Invalid or used nonce", oauth: true },
  unknown_credential_configuration: { status: 400, title: "Unknown credential configuration", oauth: true },
  invalid_credential_request: { status: 400, title: "Invalid credential request", oauth: true },
  credential_request_denied: { status: 400, title: "Credential request denied", oauth: true },
  invalid_notification_id: { status: 400, title: "Invalid notification id", oauth: true },
  invalid_notification_request: { status: 400, title: "Invalid notification request", oauth: true },
};

export interface ProblemExtras {
  /** Extra members of the problem document (e.g. `errors` for validation failures). */
  [member: string]: unknown;
}

export class ApiError extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly extras: ProblemExtras;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail: string,
    options: { extras?: ProblemExtras; headers?: Record<string, string>; status?: number } = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.kind = kind;
    // An override exists for the few codes whose status depends on where they occur (RFC 9449:
    // invalid_dpop_proof is 400 at a token endpoint, 401 at a resource).
    this.status = options.status ?? KINDS[kind].status;
    this.extras = options.extras ?? {};
    this.headers = options.headers ?? {};
  }
}

export function problemBody(
  kind: ProblemKind,
  detail: string,
  extras: ProblemExtras = {},
  status = KINDS[kind].status,
): Record<string, unknown> {
  const info = KINDS[kind];
  return {
    type: `urn:antichambre:problem:${kind.replaceAll("_", "-")}`,
    title: info.title,
    status,
    detail,
    ...(info.oauth || kind === "invalid_dpop_proof" ? { error: kind, error_description: detail } : {}),
    ...extras,
  };
}

export function problemResponse(error: ApiError): Response {
  return new Response(JSON.stringify(problemBody(error.kind, error.message, error.extras, error.status)), {
    status: error.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...error.headers },
  });
}
