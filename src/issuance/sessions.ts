import type { Env } from "../config/env";
import { coordinatorOf, hashedShard, sessionsAt } from "../edge/objects";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import type { SessionCallRefusal } from "../../durable-objects/issuance-sessions";
import type { SessionLimits } from "./session-rules";

/**
 * Where an admission's issuance session lives, and what its refusals mean over HTTP.
 *
 * One session per admission, named by room and ticket id; sessions are spread over
 * ISSUANCE_SESSION_SHARDS objects by a hash of that name, so no object takes more than its share of
 * the credential calls, whatever the admission rate.
 */
export const ISSUANCE_SESSION_SHARDS = 32;

export function sessionIdOf(room: string, ticketId: string): string {
  return `${room}/${ticketId}`;
}

export async function sessionObject(env: Env, sessionId: string) {
  return sessionsAt(env, await hashedShard(sessionId, ISSUANCE_SESSION_SHARDS));
}

/** The room's limits as the coordinator gives them, with the deployment's batch size as the default. */
export function sessionLimits(env: Env, room: { credentialsPerConfiguration: number | null; registerReads: number }): SessionLimits {
  return {
    credentialsPerConfiguration: room.credentialsPerConfiguration ?? settingsOf(env).credentialBatchSize,
    registerReads: room.registerReads,
  };
}

const DPOP_INVALID_TOKEN = { "www-authenticate": 'DPoP error="invalid_token", algs="ES256"' };

/**
 * A session refusal as the client hears it. At the token endpoint every refusal of the code is an
 * `invalid_grant` (RFC 6749 §5.2; a replayed proof is RFC 9449's `invalid_dpop_proof`). At the credential
 * and notification endpoints a session that is over makes its token invalid (401 `invalid_token`, RFC
 * 6750 §3.1), and a spent quota is OpenID4VCI's `credential_request_denied` with the reason.
 */
export function sessionRefusal(reason: SessionCallRefusal, at: "token" | "resource"): ApiError {
  const words = reason.replaceAll("_", " ");
  if (reason === "replayed") {
    return new ApiError("invalid_dpop_proof", "the DPoP proof was refused (replayed)", {
      extras: { reason },
      ...(at === "token" ? { status: 400 } : { headers: { "www-authenticate": 'DPoP error="invalid_dpop_proof", algs="ES256"' } }),
    });
  }
  if (at === "token") {
    const detail =
      reason === "code_used"
        ? "the pre-authorized code was already used: poll the ticket again for a fresh one"
        : `the admission was already used (${words}): one admission opens one issuance session`;
    return new ApiError("invalid_grant", detail, { extras: { reason } });
  }
  switch (reason) {
    case "credential_quota_exhausted":
      return new ApiError("credential_request_denied", "this admission's issuance session has obtained every credential it may", {
        extras: { reason },
      });
    case "register_read_quota_exhausted":
      return new ApiError("credential_request_denied", "this admission's issuance session has made every credential request it may", {
        extras: { reason },
      });
    case "notification_used":
      return new ApiError("invalid_notification_id", "this notification_id was already used", { extras: { reason } });
    case "unknown_transaction":
      return new ApiError("invalid_transaction_id", "this session holds no pending transaction with that transaction_id", {
        extras: { reason },
      });
    default:
      return new ApiError("invalid_token", `the access token's issuance session is over (${words})`, {
        extras: { reason },
        headers: DPOP_INVALID_TOKEN,
      });
  }
}

/** An operator ends a session: its tokens die first, then the coordinator frees its slot. */
export async function endSessionByOperator(env: Env, room: string, ticketId: string): Promise<boolean> {
  const sessionId = sessionIdOf(room, ticketId);
  const ended = await (await sessionObject(env, sessionId)).end(sessionId, "operator");
  if (ended) await coordinatorOf(env, room).endSession(ticketId);
  return ended;
}
