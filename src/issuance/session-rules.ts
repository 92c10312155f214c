import { ok, refuse, type Result } from "../lib/result";

/**
 * One admission = one issuance session, bounded in time, in credentials and in register reads.
 *
 * Pure decisions over a session record (no I/O, the caller's clock): the IssuanceSessions object runs
 * them inside one RPC with no await between read and write, so concurrent calls of one session are
 * decided one after the other and no quota is ever overdrawn.
 */
export interface SessionLimits {
  /** Most credentials of each credential configuration this session may obtain. */
  readonly credentialsPerConfiguration: number;
  /** Most register reads (credential requests that reached the register) this session may cause. */
  readonly registerReads: number;
}

export type SessionEndReason = "accepted" | "deleted" | "operator" | "expired";

export interface SessionRecord {
  readonly id: string;
  readonly room: string;
  readonly ticketId: string;
  /** The key the session is bound to: every access token of it is bound to this key. */
  readonly jkt: string;
  readonly endsAt: number;
  readonly endedAt: number | null;
  readonly endReason: SessionEndReason | null;
  /** The notification id that ended it, and whether the coordinator has since freed its slot. */
  readonly endedBy: string | null;
  readonly endConfirmed: boolean;
  readonly limits: SessionLimits;
  readonly registerReads: number;
  /** Credentials obtained so far, by credential configuration id. */
  readonly issued: Readonly<Record<string, number>>;
}

export type SessionRefusal =
  /** No session: never opened here, or forgotten after it ended (its tokens expire with it). */
  | "unknown_session"
  | "session_ended"
  | "session_expired"
  | "bound_to_another_key"
  | "credential_quota_exhausted"
  | "register_read_quota_exhausted";

export type Decision<T = null> = Result<T, SessionRefusal>;

/** Whether the session can still be used at `now` by `jkt`. */
export function usable(session: SessionRecord | null, jkt: string, now: number): Decision {
  if (!session) return refuse("unknown_session");
  if (session.endedAt !== null) return refuse("session_ended");
  if (session.endsAt <= now) return refuse("session_expired");
  if (session.jkt !== jkt) return refuse("bound_to_another_key");
  return ok(null);
}

/**
 * A credential request for `count` credentials of `configuration`: one register read and `count`
 * credentials reserved, or the reason it is refused. Reserved before the register is read, so a burst of
 * concurrent requests cannot all pass a check and then all read.
 */
export function reserveIssuance(
  session: SessionRecord | null,
  jkt: string,
  configuration: string,
  count: number,
  now: number,
): Decision<SessionRecord> {
  const live = usable(session, jkt, now);
  if (!live.ok) return live;
  const s = session!;
  if (s.registerReads + 1 > s.limits.registerReads) return refuse("register_read_quota_exhausted");
  const already = s.issued[configuration] ?? 0;
  if (already + count > s.limits.credentialsPerConfiguration) return refuse("credential_quota_exhausted");
  return ok({ ...s, registerReads: s.registerReads + 1, issued: { ...s.issued, [configuration]: already + count } });
}

/** A reservation not used (see IssuanceSessions.release): its credentials, and its read unless spent. */
export function releaseReservation(session: SessionRecord, configuration: string, count: number, readSpent: boolean): SessionRecord {
  const already = session.issued[configuration] ?? 0;
  return {
    ...session,
    registerReads: readSpent ? session.registerReads : Math.max(0, session.registerReads - 1),
    issued: { ...session.issued, [configuration]: Math.max(0, already - count) },
  };
}

/** Credentials still obtainable per configuration, for the answer's headers and the SDK. */
export function remaining(session: SessionRecord, configuration: string): number {
  return Math.max(0, session.limits.credentialsPerConfiguration - (session.issued[configuration] ?? 0));
}
