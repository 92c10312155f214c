import { z } from "zod";
import type { HmacKeyring } from "../tickets/keyring";
import { open, seal, type SealPurpose } from "../tickets/sealed";

/**
 * The sealed tokens of issuance, one schema per purpose: what a pre-authorized code, an access token
 * and a notification id carry. Only this service can seal them, yet what opens is parsed, not trusted:
 * a token sealed by an older version, or under a key since reused, must fail as a refusal, never reach a
 * Durable Object malformed (a missing place in line once answered 500).
 */
const Place = z.tuple([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
]);

/** What every pre-authorized code carries: its own id (each code is single use), the admission, the person. */
const CodeBase = z.object({
  /** The code's own id: each code is single use (IssuanceSessions.redeem). */
  cid: z.string().min(16).max(64),
  room: z.string(),
  tid: z.string(),
  ord: Place,
  pid: z.string(),
  exp: z.number(),
});

export const PreAuthorizedCodeSchema = z.union([
  /** The device that waited: only its key can redeem this code. */
  CodeBase.extend({ jkt: z.string(), handoff: z.undefined().optional() }),
  /** For a wallet on another device, once the waiting page approves its key (handoff.ts). */
  CodeBase.extend({ handoff: z.literal(true) }),
]);
export type PreAuthorizedCode = z.infer<typeof PreAuthorizedCodeSchema>;
type WithoutCid<T> = T extends unknown ? Omit<T, "cid" | "exp"> : never;

export const AccessTokenSchema = z.object({
  pid: z.string(),
  jkt: z.string(),
  room: z.string(),
  tid: z.string(),
  /** Authorization code flow: the credential configurations authorized (absent: every one). */
  cfg: z.array(z.string()).optional(),
  exp: z.number(),
});

export const NotificationIdSchema = z.object({ room: z.string(), tid: z.string(), nid: z.string().min(16).max(64), exp: z.number() });

/** A handoff offer reference (handoff-offer.ts): the admission, when it ends (`ax`, s), its single-use name. */
export const HandoffOfferSchema = z.object({
  room: z.string(),
  tid: z.string(),
  ord: Place,
  pid: z.string(),
  ax: z.number(),
  n: z.string().min(8).max(64),
  exp: z.number(),
});

/** A c_nonce: its single-use id. */
export const CNonceSchema = z.object({ jti: z.string().min(16).max(64), exp: z.number() });

/** The person reference sealed inside a queue ticket. */
export const TicketPersonSchema = z.object({ pid: z.string().min(1).max(200) });

export type GrantRefusal = "malformed" | "expired" | "unknown_key" | "wrong_purpose" | "bad_claims";

/** Opens a sealed token of `purpose` and parses it with its schema. */
export async function openGrant<S extends z.ZodType>(
  ring: HmacKeyring,
  purpose: SealPurpose,
  schema: S,
  token: string,
  now: number,
): Promise<{ ok: true; claims: z.infer<S> } | { ok: false; reason: GrantRefusal }> {
  const opened = await open(ring, purpose, token, now);
  if (!opened.ok) return opened;
  const parsed = schema.safeParse(opened.claims);
  return parsed.success ? { ok: true, claims: parsed.data } : { ok: false, reason: "bad_claims" };
}

/** A fresh pre-authorized code for an admission: every poll of an admitted ticket gets a new one. */
export function sealPreAuthorizedCode(
  ring: HmacKeyring,
  claims: WithoutCid<PreAuthorizedCode>,
  now: number,
  expiresAt: number,
): Promise<string> {
  return seal(ring, "pre-authorized-code", { ...claims, cid: crypto.randomUUID() }, now, expiresAt);
}
