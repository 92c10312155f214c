import type { CoordinatorRefusal } from "../admission/protocol";
import { ApiError } from "./problem";
import { noRoom } from "./request";

/**
 * A coordinator refusal (src/admission/protocol.ts) as the client hears it: the one mapping from a
 * reason to an HTTP error. The operator's API hears 404 for a missing room, 409 for a change the room's
 * state forbids and 422 for a bad combination; the token endpoint hears every refusal of its code as
 * `invalid_grant` (RFC 6749 §5.2) with the reason, since to the wallet they all mean "this code is spent".
 * The issuance sessions' own refusals map in src/issuance/sessions.ts (sessionRefusal).
 */
export function coordinatorRefusal(reason: CoordinatorRefusal, room: string, at: "admin" | "token"): ApiError {
  if (at === "token") {
    return new ApiError("invalid_grant", `the pre-authorized code cannot be used (${reason.replaceAll("_", " ")})`, { extras: { reason } });
  }
  switch (reason) {
    case "no_room":
      return noRoom(room);
    case "outflow_floor_above_ceiling":
      return new ApiError("validation_failed", "outflow.floor_per_minute must not exceed outflow.ceiling_per_minute");
    case "shards_locked":
      return new ApiError("conflict", "the shard count of a room cannot change once anyone has joined it");
    case "prequeue_open":
      return new ApiError(
        "conflict",
        "the event's pre-queue is open: its lottery is committed and cannot be moved or removed until event_start",
      );
    case "prequeue_not_in_future":
      return new ApiError(
        "conflict",
        "prequeue_start must be in the future: the lottery's commitment is published before the pre-queue opens",
      );
    case "no_event":
      return new ApiError("conflict", "this room has no scheduled event, so no lottery to reveal");
    case "not_yet_drawn":
      return new ApiError("conflict", "the lottery is revealed only after event_start");
    case "not_admitted":
    case "expired":
      // Session starts come from the token endpoint only; an operator never starts one.
      return new ApiError("conflict", `the admission cannot open a session (${reason.replaceAll("_", " ")})`);
  }
}
