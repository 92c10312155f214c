import { describe, expect, it } from "vitest";
import { adminPutOk, joinMany, statuses } from "../helpers/queue";
import { call, createRoom, join, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

describe("queueing methods and pause", () => {
  it("paused stops admission without losing anyone's place", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    const joined = await joinMany(room, 3);
    await adminPutOk(room, { paused: true });
    for (let s = 0; s < 5; s++) await tick(room);
    const p = await poll(room, joined[0]!.ticket);
    expect(p.body).toMatchObject({ status: "waiting", position: 1, estimated_wait_seconds: null });
    expect(((await (await call(`/v1/rooms/${room}`)).json()) as { state: string }).state).toBe("paused");
    await adminPutOk(room, { paused: false });
    await tick(room);
    // Resuming releases no saved-up burst: one second's worth (one person at 60/min).
    expect(await statuses(room, joined)).toEqual(["admitted", "waiting", "waiting"]);
  });

  it("passthrough admits everyone at the next tick, beyond the usual limits", async () => {
    const room = await createRoom({ new_users_per_minute: 1, total_active_users: 1, queueing_method: "passthrough" });
    const joined = await joinMany(room, 5);
    await tick(room);
    expect(await statuses(room, joined)).toEqual(Array(5).fill("admitted"));
  });

  it("reject turns newcomers away with 503 + Retry-After while people are waiting, but keeps existing places", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    const [a, b] = await joinMany(room, 3);
    await tick(room); // the first is admitted; two remain waiting
    await adminPutOk(room, { queueing_method: "reject" });
    const refused = await join(room);
    expect(refused.status).toBe(503);
    expect(refused.body.type).toBe("urn:antichambre:problem:room-closed");
    expect(refused.headers.get("retry-after")).toBe("60");
    const kept = await join(room, { device: b!.device, personId: b!.personId });
    expect(kept.status).toBe(200);
    expect(kept.body.position).toBe(1);
    expect((await poll(room, a!.ticket)).body.status).toBe("admitted");
    expect(((await (await call(`/v1/rooms/${room}`)).json()) as { state: string }).state).toBe("closed");
  });

  it("random admits each arrival window in a lottery order, only once the window has closed", async () => {
    const room = await createRoom({ new_users_per_minute: 600, queueing_method: "random", random_window_seconds: 60 });
    // Align to the start of a window, then 20 arrivals within it.
    testClock.set(Math.ceil(testClock.now() / 60_000) * 60_000 + 1_000);
    const joined = await joinMany(room, 20, 100);
    await tick(room);
    expect(await statuses(room, joined)).toEqual(Array(20).fill("waiting"));
    // Ticks run every second in a live room: tick just before the window's draw becomes eligible, so
    // the first admitting tick follows a 1 s period (a stalled alarm may catch up to 5 s' worth).
    testClock.set(Math.ceil(testClock.now() / 60_000) * 60_000 - 400);
    await tick(room, 0);
    testClock.set(testClock.now() + 1_000);
    const admittedAt: number[] = new Array(20).fill(-1);
    for (let t = 0; t < 4; t++) {
      await tick(room, t === 0 ? 0 : 1_000);
      for (let i = 0; i < 20; i++) {
        if (admittedAt[i] === -1 && (await poll(room, joined[i]!.ticket)).body.status === "admitted") admittedAt[i] = t;
      }
    }
    expect(admittedAt).not.toContain(-1);
    // 600/min = 10 per tick: two lottery draws of ten, and not simply the first ten to arrive.
    expect(admittedAt.filter((t) => t === 0).length).toBe(10);
    expect(admittedAt.slice(0, 10)).not.toEqual(Array(10).fill(0));
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
