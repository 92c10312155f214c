import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createRoom, expectProblem, poll, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { parseExposition, sampleValue, samplesOf, type Family } from "../helpers/prometheus";
import { adminPutOk, joinMany } from "../helpers/queue";

/** GET /v1/admin/metrics over HTTP, parsed strictly (every line, every family typed, every value a number). */
async function scrape(query = ""): Promise<Map<string, Family>> {
  const res = await call(`/v1/admin/metrics${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe("no-store");
  const families = parseExposition(await res.text());
  for (const family of families.values()) {
    expect(family.type, family.name).not.toBeNull();
    expect(family.help, family.name).toBeTruthy();
  }
  return families;
}

describe("GET /v1/admin/metrics", () => {
  it("needs the admin token", async () => {
    await expectProblem(await call("/v1/admin/metrics"), 401, "unauthorized");
    await expectProblem(await call("/v1/admin/metrics", { headers: { authorization: "Bearer wrong" } }), 401, "unauthorized");
  });

  it("covers DEFAULT_ROOMS by default, with room, register and edge families", async () => {
    const m = await scrape();
    expect(sampleValue(m, "antichambre_room_up", { room: "permis" })).toBe(1);
    expect(samplesOf(m, "antichambre_room_up").map((s) => s.labels.room)).toEqual(["permis"]);
    for (const name of [
      "antichambre_room_waiting",
      "antichambre_room_admitted_total",
      "antichambre_register_reads_total",
      "antichambre_register_busy_total",
      "antichambre_register_in_flight",
      "antichambre_register_latency_seconds",
      "antichambre_http_requests_total",
      "antichambre_http_request_duration_seconds",
      "antichambre_isolate_info",
    ]) {
      expect(m.has(name), name).toBe(true);
    }
    expect(m.get("antichambre_register_latency_seconds")!.type).toBe("histogram");
  });

  it("follows joins, ticks and configuration changes of the rooms asked for", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const r = { room };
    let m = await scrape(`?room=${room}&room=no-such-room`);
    expect(sampleValue(m, "antichambre_room_up", r)).toBe(1);
    expect(sampleValue(m, "antichambre_room_up", { room: "no-such-room" })).toBe(0);
    expect(sampleValue(m, "antichambre_room_waiting", r)).toBe(0);
    expect(sampleValue(m, "antichambre_room_admitted_total", r)).toBe(0);
    expect(sampleValue(m, "antichambre_room_new_users_per_minute", r)).toBe(60);
    expect(samplesOf(m, "antichambre_room_shard_waiting", r)).toHaveLength(2);

    const joined = await joinMany(room, 4);
    await tick(room);
    m = await scrape(`?room=${room}`);
    const waiting = sampleValue(m, "antichambre_room_waiting", r)!;
    const admitted = sampleValue(m, "antichambre_room_admitted_total", r)!;
    expect(waiting + admitted).toBe(4);
    expect(admitted).toBeGreaterThanOrEqual(1);
    // The shards add up to the room.
    const perShard = samplesOf(m, "antichambre_room_shard_waiting", r).reduce((n, s) => n + s.value, 0);
    expect(perShard).toBe(waiting);
    expect(samplesOf(m, "antichambre_room_shard_tickets", r).reduce((n, s) => n + s.value, 0)).toBe(4);

    for (let i = 0; i < 5; i++) await tick(room);
    for (const j of joined) await poll(room, j.ticket);
    m = await scrape(`?room=${room}`);
    expect(sampleValue(m, "antichambre_room_waiting", r)).toBe(0);
    expect(sampleValue(m, "antichambre_room_admitted_total", r)).toBe(4);
    expect(sampleValue(m, "antichambre_room_admitted_last_minute", r)).toBe(4);
    expect(sampleValue(m, "antichambre_room_active_users", r)).toBe(4);
    expect(sampleValue(m, "antichambre_room_admission_rate_per_second", r)).toBeGreaterThan(0);
    // This isolate answered those joins and polls; the counters are keyed by route pattern, not URL.
    expect(
      sampleValue(m, "antichambre_http_requests_total", { route: "/v1/rooms/:room/tickets", method: "POST", status_class: "2xx" }),
    ).toBeGreaterThanOrEqual(4);
    expect(
      sampleValue(m, "antichambre_http_requests_total", { route: "/v1/rooms/:room/tickets/current", method: "GET", status_class: "2xx" }),
    ).toBeGreaterThanOrEqual(4);
    expect(samplesOf(m, "antichambre_http_requests_total").some((s) => s.labels.route!.includes(room))).toBe(false);

    await adminPutOk(room, { paused: true, queueing_method: "random", new_users_per_minute: 90 });
    m = await scrape(`?room=${room}`);
    expect(sampleValue(m, "antichambre_room_paused", r)).toBe(1);
    expect(sampleValue(m, "antichambre_room_new_users_per_minute", r)).toBe(90);
    expect(sampleValue(m, "antichambre_room_queueing_method", { room, method: "random" })).toBe(1);
    expect(sampleValue(m, "antichambre_room_queueing_method", { room, method: "fifo" })).toBe(0);
  });

  it("counts refusals by status class", async () => {
    const before =
      sampleValue(await scrape(), "antichambre_http_requests_total", { route: "/v1/rooms/:room/tickets/current", status_class: "4xx" }) ??
      0;
    await call("/v1/rooms/permis/tickets/current", { headers: { authorization: "Bearer not-a-ticket" } });
    const after = sampleValue(await scrape(), "antichambre_http_requests_total", {
      route: "/v1/rooms/:room/tickets/current",
      status_class: "4xx",
    });
    expect(after).toBe(before + 1);
  });

  it("refuses malformed room names and too many rooms", async () => {
    const auth = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };
    await expectProblem(await call("/v1/admin/metrics?room=Not%20A%20Room", auth), 400, "bad-request");
    const many = Array.from({ length: 33 }, (_, i) => `room=r${i}`).join("&");
    await expectProblem(await call(`/v1/admin/metrics?${many}`, auth), 400, "bad-request");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
