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
  | "invalid_dpop_proof"
  | "invalid_ticket"
  | "invalid_identity_assertion"
  | "unauthorized"
  | "admin_disabled"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "room_closed"
  | "not_configured"
  | "temporarily_unavailable"
  | "internal";

interface KindInfo {
  status: number;
  title: string;
}

const KINDS: Record<ProblemKind, KindInfo> = {
  bad_request: { status: 400, title: "Bad request" },
  invalid_json: { status: 400, title: "Body is not valid JSON" },
  validation_failed: { status: 422, title: "Request failed validation" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  payload_too_large: { status: 413, title: "Request body too large" },
  invalid_dpop_proof: { status: 401, title: "Invalid DPoP proof" },
  invalid_ticket: { status: 401, title: "Invalid queue ticket" },
  invalid_identity_assertion: { status: 401, title: "Invalid identity assertion" },
  unauthorized: { status: 401, title: "Missing or wrong credentials" },
  admin_disabled: { status: 403, title: "Admin API disabled" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  room_closed: { status: 503, title: "Room not accepting arrivals" },
  not_configured: { status: 503, title: "Service not configured" },
  temporarily_unavailable: { status: 503, title: "Temporarily unavailable" },
  internal: { status: 500, title: "Internal error" },
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

  constructor(kind: ProblemKind, detail: string, options: { extras?: ProblemExtras; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = "ApiError";
    this.kind = kind;
    this.status = KINDS[kind].status;
    this.extras = options.extras ?? {};
    this.headers = options.headers ?? {};
  }
}

export function problemBody(kind: ProblemKind, detail: string, extras: ProblemExtras = {}): Record<string, unknown> {
  const info = KINDS[kind];
  return {
    type: `urn:antichambre:problem:${kind.replaceAll("_", "-")}`,
    title: info.title,
    status: info.status,
    detail,
    ...extras,
  };
}

export function problemResponse(error: ApiError): Response {
  return new Response(JSON.stringify(problemBody(error.kind, error.message, error.extras)), {
    status: error.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...error.headers },
  });
}
