import { z } from "zod";
import { secret, type Env } from "../config/env";
import { ApiError } from "../http/problem";
import { hmacKeyring } from "../tickets/keyring";
import type { AccessGrant } from "./dpop-access";
import { NotificationIdSchema, openGrant } from "./grants";
import { sessionObject, sessionRefusal } from "./sessions";

/**
 * The notification endpoint's use case (OpenID4VCI 1.0 §11). Each notification_id is accepted once.
 * `credential_accepted` and `credential_deleted` end the session: its tokens stop working at once and
 * its slot is free for the next person in line from the coordinator's next tick. `credential_failure` leaves the session
 * open (the wallet may try again within its limits) and so keeps its slot.
 */
export const NotificationSchema = z
  .object({
    notification_id: z.string().min(1).max(4096),
    event: z.enum(["credential_accepted", "credential_failure", "credential_deleted"]),
    event_description: z.string().max(1000).optional(),
  })
  .strict();
export type Notification = z.infer<typeof NotificationSchema>;

export async function acceptNotification(env: Env, grant: AccessGrant, notification: Notification, now: number): Promise<void> {
  const opened = await openGrant(
    await hmacKeyring(secret(env, "TICKET_KEYS")),
    "notification",
    NotificationIdSchema,
    notification.notification_id,
    now,
  );
  if (!opened.ok || opened.claims.tid !== grant.ticketId || opened.claims.room !== grant.room) {
    throw new ApiError("invalid_notification_id", "unknown notification_id");
  }
  const sessions = await sessionObject(env, grant.sessionId);
  const noted = await sessions.notify(grant.sessionId, {
    jkt: grant.jkt,
    proofId: grant.proofId,
    proofExpiresAt: grant.proofExpiresAt,
    notificationId: opened.claims.nid,
    notificationExpiresAt: opened.claims.exp * 1000 + 60_000,
    event: notification.event,
  });
  // An ending notification ended the session in its object, which is where the room's active count
  // is read from at the next tick: nothing else needs telling.
  if (!noted.ok) throw sessionRefusal(noted.reason, "resource");
}
