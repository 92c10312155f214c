import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../../src/register/seed";
import { adminGet, createRoom, join, poll, testClock, tick, type Joined } from "../../helpers/api";
import type { Device } from "../../helpers/device";
import { SD_JWT, admittedOffer, credential, nonce, token, walletKeys, withAccess } from "../../helpers/wallet";
import type { RoomRef } from "./state";

/**
 * A small populated service for the properties to attack, with one of every secret worth stealing:
 * - `waiting`: a person waiting in `room` (their ticket must keep its place);
 * - `redeemable`: an admitted person whose pre-authorized code is still unused;
 * - `issued`: an admitted person with an access token, a credential issued (so a notification id) and
 *   a fresh c_nonce, all unused since;
 * - `foreign`: a ticket for `other`, to present in the wrong room.
 * `legitimateFollowUps` then spends every one of them, proving no refused request consumed any.
 */
export interface World {
  room: RoomRef;
  other: RoomRef;
  waiting: Joined;
  redeemable: { device: Device; code: string; ticket: string };
  issued: { device: Device; accessToken: string; notificationId: string; nonce: string; ticket: string; code: string };
  foreign: Joined;
}

const SEEDED = 40;

function validHolders(): string[] {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids = [];
  for (let n = 1; n <= SEEDED; n++) if (syntheticHolder(n).expiry_date > today) ids.push(personIdFor(n));
  return ids;
}

export async function makeWorld(): Promise<World> {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
  const [b, c] = validHolders();
  // The properties send the world's access token a hundred well-formed credential requests, many of
  // which succeed: its session gets the largest limits a room allows, so they test the endpoint, not the
  // session's quota (test/http/session-bounds.test.ts does).
  const room = {
    name: await createRoom({
      shards: 2,
      new_users_per_minute: 600,
      total_active_users: 100,
      session_credentials_per_configuration: 100,
      session_register_reads: 100,
    }),
    shards: 2,
  };
  const other = { name: await createRoom({ shards: 1 }), shards: 1 };
  const redeemer = await join(room.name, { personId: b! });
  const holder = await join(room.name, { personId: c! });
  await tick(room.name);
  const waiting = await join(room.name);
  expect(waiting.status).toBe(201);
  const redeemable = await admittedOffer(room.name, redeemer.ticket);
  const held = await admittedOffer(room.name, holder.ticket);
  const granted = await token(holder.device, held.code);
  expect(granted.status).toBe(200);
  const accessToken = granted.body.access_token as string;
  const first = await credential(holder.device, accessToken, SD_JWT, await walletKeys(1));
  expect(first.status).toBe(200);
  return {
    room,
    other,
    waiting,
    redeemable: { device: redeemer.device, code: redeemable.code, ticket: redeemer.ticket },
    issued: {
      device: holder.device,
      accessToken,
      notificationId: first.body.notification_id as string,
      nonce: await nonce(),
      ticket: holder.ticket,
      code: held.code,
    },
    foreign: await join(other.name),
  };
}

/** Spend every secret the world holds, the legitimate way: each must still work. */
export async function legitimateFollowUps(world: World): Promise<void> {
  const waiting = await poll(world.room.name, world.waiting.ticket);
  expect(waiting.status).toBe(200);
  expect(waiting.body.status).toBe("waiting");
  expect((await token(world.redeemable.device, world.redeemable.code)).status).toBe(200);
  const { issued } = world;
  const again = await credential(issued.device, issued.accessToken, SD_JWT, await walletKeys(1), issued.nonce);
  expect(again.status).toBe(200);
  const open = (await adminGet(world.room.name)).sessions_open as number;
  const notified = await withAccess("/notification", issued.device, issued.accessToken, {
    notification_id: issued.notificationId,
    event: "credential_accepted",
  });
  expect(notified.status).toBe(204);
  expect((await adminGet(world.room.name)).sessions_open).toBe(open - 1);
}
