import { abortAllDurableObjects } from "cloudflare:test";
import { expect, it } from "vitest";
import { clearSnapshotCache } from "../../src/edge/snapshot-cache";
import { adminGet, createRoom, join, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

/**
 * A restart: every Durable Object instance is thrown away (memory gone, SQLite kept) and the edge cache
 * is emptied. Nothing anyone was given may be lost: places, admissions, the frontier, the counts.
 */
it("keeps every ticket, place and admission across a restart, and goes on admitting in order", async () => {
  const room = await createRoom({ new_users_per_minute: 120, shards: 3, admission_ttl_seconds: 600 });
  const joined = [];
  for (let i = 0; i < 10; i++) {
    testClock.advance(1_000);
    joined.push(await join(room));
  }
  await tick(room); // admits the first two
  const before = [];
  for (const j of joined) before.push((await poll(room, j.ticket)).body);
  const statsBefore = await adminGet(room);
  expect(before.map((b) => b.status)).toEqual([...Array(2).fill("admitted"), ...Array(8).fill("waiting")]);

  await abortAllDurableObjects();
  clearSnapshotCache();

  const after = [];
  for (const j of joined) after.push((await poll(room, j.ticket)).body);
  expect(after.map((b) => b.status)).toEqual(before.map((b) => b.status));
  expect(after.map((b) => b.position)).toEqual(before.map((b) => b.position));
  expect(after.slice(0, 2).map((b) => b.admission_expires_at)).toEqual(before.slice(0, 2).map((b) => b.admission_expires_at));
  const statsAfter = await adminGet(room);
  for (const k of ["waiting", "admitted_total", "active", "admitted_last_minute", "frontier"])
    expect(statsAfter[k]).toEqual(statsBefore[k]);
  expect(statsAfter.shards).toEqual(statsBefore.shards);

  // Re-joining after the restart returns the same places, and admission resumes in arrival order.
  const again = await join(room, { device: joined[5]!.device, personId: joined[5]!.personId });
  expect(again.status).toBe(200);
  expect(again.body.position).toBe(before[5]!.position);
  await tick(room);
  const next = [];
  for (const j of joined) next.push((await poll(room, j.ticket)).body.status);
  expect(next).toEqual([...Array(4).fill("admitted"), ...Array(6).fill("waiting")]);
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
