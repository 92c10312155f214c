import { Hono } from "hono";
import { z } from "zod";
import { isJkt } from "../auth/jkt";
import { roomSnapshot } from "../edge/snapshot-cache";
import { newChallenge, requiredDifficulty } from "../edge/proof-of-work";
import { enforceClientLimit } from "../edge/rate-limits";
import type { AppEnv } from "../http/app-env";
import { noRoom, readJson, roomParam } from "../http/request";
import { clock } from "../lib/clock";

/**
 * POST /v1/rooms/{room}/challenge {"jkt": "<device key thumbprint>"}: a proof-of-work challenge for a
 * join by that key, at the difficulty in force now (0 when the room asks nothing: any solution does).
 *
 * No DPoP proof here on purpose: handing out a challenge costs one HMAC, and asking for an ES256
 * signature check first would make this the cheaper way to burn the service's CPU. The key is bound
 * anyway: only a join whose DPoP proof is by the same key can use the challenge. Limited per client
 * address like joins. A join refused for lack of work carries a challenge too, so clients may skip this.
 */
export const challenge = new Hono<AppEnv>();

export const ChallengeRequestSchema = z
  .object({ jkt: z.string().refine(isJkt, "a base64url SHA-256 JWK thumbprint (43 characters)") })
  .strict();

challenge.post("/:room/challenge", async (c) => {
  const room = roomParam(c);
  await enforceClientLimit(c.env, c.req.raw, "challenge");
  const { jkt } = await readJson(c, ChallengeRequestSchema);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  const body = await newChallenge(c.env, room, jkt, requiredDifficulty(c.env, snapshot), clock.now());
  return c.json(body, 200, { "cache-control": "no-store" });
});
