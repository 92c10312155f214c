import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { adminGet, createRoom, join, tick } from "../helpers/api";
import { seedValidHolders } from "../helpers/register";
import { coordinator, restart } from "../helpers/faults";
import { MDOC, admittedOffer, credential, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * An answer lost after the service did the work: the crash (or dropped connection) between the token
 * endpoint recording a session and the device reading the access token. Found by the restart test
 * (test/e2e/restart-surge.mjs): the device retried, was told "already used", and was locked out of an
 * admission it held. Now the device polls again and the fresh code, redeemed by the same key, gets the
 * same session back; the first code stays spent (single use); nothing else changes.
 */
const SEEDED = 30;

let validHolders: string[] = [];
const validHolderId = (skip = 0): string => validHolders[skip]!;

beforeAll(async () => {
  validHolders = await seedValidHolders(SEEDED);
});

describe("a token answer that never reached the device", () => {
  it("the same device gets the same session back, across a restart too; no other key; spent once the session ends", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await join(room, { personId: validHolderId(0) });
    await tick(room);
    const { code } = await admittedOffer(room, phone.ticket);

    const lost = await token(phone.device, code); // recorded, but say the device never read it
    expect(lost.status).toBe(200);
    await restart();
    // The code itself is spent (single use); the device polls again and redeems the fresh code it gets.
    expect((await token(phone.device, code)).body).toMatchObject({ error: "invalid_grant", reason: "code_used" });
    const { code: fresh } = await admittedOffer(room, phone.ticket);
    const retry = await token(phone.device, fresh);
    expect(retry.status).toBe(200);
    expect(retry.body.expires_in).toBeLessThanOrEqual(lost.body.expires_in);
    const stats = await adminGet(room);
    expect(stats.sessions_open).toBe(1); // one session, not two
    expect(stats.active).toBe(1);

    const [other] = await walletKeys(1);
    const { code: another } = await admittedOffer(room, phone.ticket);
    expect((await token(other!, another)).body.error).toBe("invalid_dpop_proof"); // the code is bound to the phone

    const [key] = await walletKeys(1);
    const issued = await credential(phone.device, retry.body.access_token, MDOC, [key!]);
    expect(issued.status).toBe(200);
    const done = await withAccess("/notification", phone.device, retry.body.access_token, {
      notification_id: issued.body.notification_id,
      event: "credential_accepted",
    });
    expect(done.status).toBe(204);
    const spent = await token(phone.device, (await admittedOffer(room, phone.ticket)).code);
    expect(spent.status).toBe(400);
    expect(spent.body.error).toBe("invalid_grant");
    expect(spent.body.error_description).toMatch(/already used/);
  });

  it("rooms whose sessions table predates the redeeming key get the column on start", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    await runInDurableObject(coordinator(room), (_instance, state) => {
      state.storage.sql.exec("ALTER TABLE sessions DROP COLUMN jkt");
      // Rooms of that age predate the versioned schema too (src/admission/coordinator-store.ts).
      state.storage.sql.exec("DROP TABLE schema_version");
    });
    await restart();
    const phone = await join(room, { personId: validHolderId(1) });
    await tick(room);
    const { code } = await admittedOffer(room, phone.ticket);
    expect((await token(phone.device, code)).status).toBe(200);
    expect((await token(phone.device, (await admittedOffer(room, phone.ticket)).code)).status).toBe(200);
  });
});
