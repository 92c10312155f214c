import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../config/config-error";
import { RegisterBusyError, RegisterUnavailableError } from "../register/register";
import { logger } from "../log/logger";
import { recordIssuance } from "../metrics/analytics";
import { ApiError, problemResponse } from "./problem";

/**
 * The single place where anything thrown while handling a request becomes a response.
 * An ApiError maps to its own problem document; a ConfigError (bad or missing variables and secrets,
 * src/config/settings.ts) to 503 not-configured naming each bad variable and why, never its value;
 * Hono's own HTTPExceptions keep their status; anything else is our bug, logged with its stack and
 * answered as an opaque 500 (never the message: it might carry internals).
 */
export const onError: ErrorHandler = (err, c) => {
  if (err instanceof ApiError) return problemResponse(err);
  if (err instanceof ConfigError) return problemResponse(notConfigured(err));
  // The protected backend at capacity or failing: retryable, never a 500.
  if (err instanceof RegisterBusyError || err instanceof RegisterUnavailableError) {
    recordIssuance(c.env ?? {}, err instanceof RegisterBusyError ? "register_busy" : "register_error");
    return problemResponse(
      // Unavailable messages are ours ("…timed out", "…failed"): they say which, and carry no input.
      new ApiError(
        "temporarily_unavailable",
        err instanceof RegisterBusyError ? "the licence register is at capacity; retry shortly" : `${err.message}; retry shortly`,
        {
          headers: { "retry-after": String(err.retryAfterSeconds) },
        },
      ),
    );
  }
  if (err instanceof HTTPException) {
    if (err.status === 413)
      return problemResponse(new ApiError("payload_too_large", "the request body is larger than this endpoint accepts"));
    return problemResponse(new ApiError(err.status >= 500 ? "internal" : "bad_request", err.message || "request refused"));
  }
  // The stack says where; the logger redacts anything token-shaped a message might quote.
  logger.error("unhandled_error", {
    error: err instanceof Error ? `${err.name}: ${err.message} @ ${err.stack?.split("\n").slice(1, 4).join(" | ") ?? ""}` : String(err),
  });
  return problemResponse(new ApiError("internal", "an unexpected error occurred; it has been logged"));
};

export const onNotFound: NotFoundHandler = (c) =>
  problemResponse(new ApiError("not_found", `no resource at ${c.req.method} ${new URL(c.req.url).pathname}`));

/**
 * The operator reads the names in the answer and the log; clients only learn the service is not ready
 * (a 503 they retry later). Each reason is ours, not the value, so nothing secret is echoed.
 */
function notConfigured(err: ConfigError): ApiError {
  logger.error("bad_configuration", { error: err.message });
  return new ApiError("not_configured", err.message, {
    extras: { invalid_settings: err.problems.map(({ name, reason }) => ({ name, reason })) },
  });
}
