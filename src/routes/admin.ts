import { Hono } from "hono";
import { RoomConfigPatchSchema } from "../config/room-config";
import { requireAdmin } from "../http/admin-auth";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { noRoom, readJson, roomParam } from "../http/request";
import { clearSnapshotCache } from "../edge/snapshot-cache";
import { registerMetrics } from "../register/register";
import { collectMetrics, scrapedRooms } from "../metrics/collect";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/prometheus";

/** Operators' API: create and tune rooms, read live statistics. Always fresh from the coordinator. */
export const admin = new Hono<AppEnv>();

admin.use("*", requireAdmin);

admin.put("/rooms/:room", async (c) => {
  const room = roomParam(c);
  const patch = await readJson(c, RoomConfigPatchSchema);
  const stub = c.env.ROOM_COORDINATOR.get(c.env.ROOM_COORDINATOR.idFromName(room));
  const result = await stub.configure(room, patch);
  if ("conflict" in result) throw new ApiError("conflict", result.conflict);
  // This isolate sees its own change at once; others within a snapshot TTL.
  clearSnapshotCache();
  c.header("cache-control", "no-store");
  return c.json({ room, config: result.config }, result.created ? 201 : 200);
});

admin.get("/rooms/:room", async (c) => {
  const room = roomParam(c);
  const stub = c.env.ROOM_COORDINATOR.get(c.env.ROOM_COORDINATOR.idFromName(room));
  const stats = await stub.stats(room);
  if (!stats) throw noRoom(room);
  c.header("cache-control", "no-store");
  return c.json(stats);
});

/**
 * The protected register as this isolate sees it: reads, errors, busy refusals, in-flight and latency.
 * Per isolate (each enforces its own share of the capacity); a deployment aggregates them in logs.
 */
admin.get("/register", (c) => {
  c.header("cache-control", "no-store");
  return c.json(registerMetrics());
});

/**
 * Prometheus scrape: rooms from `?room=` (repeatable) or DEFAULT_ROOMS, plus this isolate's register and
 * edge counters. Text exposition format 0.0.4.
 */
admin.get("/metrics", async (c) => {
  const body = await collectMetrics(c.env, scrapedRooms(c.env, c.req.queries("room") ?? []));
  return c.body(body, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
