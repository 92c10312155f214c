import { Hono } from "hono";
import { RoomConfigPatchSchema } from "../config/room-config";
import { requireAdmin } from "../http/admin-auth";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson, roomParam } from "../http/request";
import { clearSnapshotCache } from "../edge/snapshot-cache";
import { coordinatorOf } from "../edge/objects";
import { coordinatorRefusal } from "../http/refusals";
import { registerMetrics, registerOptionsFromEnv, setSimulatedLatency } from "../register/register";
import { isDevelopment } from "../config/env";
import { z } from "zod";
import { collectMetrics, scrapedRooms } from "../metrics/collect";
import { endSessionByOperator } from "../issuance/sessions";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/prometheus";
import { adminLifecycle } from "./admin-lifecycle";

/** Operators' API: create and tune rooms, read live statistics. Always fresh from the coordinator. */
export const admin = new Hono<AppEnv>();

admin.use("*", requireAdmin);

// Credential suspension, reinstatement, revocation and the audit log (src/lifecycle/).
admin.route("/", adminLifecycle);

admin.put("/rooms/:room", async (c) => {
  const room = roomParam(c);
  const patch = await readJson(c, RoomConfigPatchSchema);
  const result = await coordinatorOf(c.env, room).configure(patch);
  if (!result.ok) throw coordinatorRefusal(result.reason, room, "admin");
  // This isolate sees its own change at once; others within a snapshot TTL.
  clearSnapshotCache();
  c.header("cache-control", "no-store");
  return c.json({ room, config: result.value.config }, result.value.created ? 201 : 200);
});

/** Publish the event's lottery seed and entrants (409 before event_start; the first tick after does it too). */
admin.post("/rooms/:room/lottery/reveal", async (c) => {
  const room = roomParam(c);
  const result = await coordinatorOf(c.env, room).revealLottery();
  if (!result.ok) throw coordinatorRefusal(result.reason, room, "admin");
  clearSnapshotCache();
  c.header("cache-control", "no-store");
  return c.json({ room, lottery: result.value.lottery });
});

/**
 * End one admission's issuance session now (a fraud report, a person's request, the protected service's
 * `revoke`): its access tokens stop working at once and its slot goes to the next in line. The ticket id
 * is the admission token's `sub`, which the protected service holds.
 */
export const TicketIdSchema = z
  .string()
  .regex(/^[0-9]{1,3}\.[0-9]{1,15}$/, "a ticket id is SHARD.SEQUENCE, as in the admission token's sub");

admin.delete("/rooms/:room/sessions/:ticket", async (c) => {
  const room = roomParam(c);
  const ticket = TicketIdSchema.safeParse(c.req.param("ticket"));
  if (!ticket.success) throw new ApiError("validation_failed", ticket.error.issues[0]!.message);
  const ended = await endSessionByOperator(c.env, room, ticket.data);
  if (!ended) throw new ApiError("not_found", `no open issuance session for ticket ${ticket.data} in room ${room}`);
  return c.body(null, 204);
});

admin.get("/rooms/:room", async (c) => {
  const room = roomParam(c);
  const stats = await coordinatorOf(c.env, room).stats();
  if (!stats.ok) throw coordinatorRefusal(stats.reason, room, "admin");
  c.header("cache-control", "no-store");
  return c.json(stats.value);
});

export const RegisterDrillSchema = z.object({ simulated_latency_ms: z.number().int().min(0).max(10_000).nullable() }).strict();

/** Development only: slow this isolate's register reads (null: back to REGISTER_LATENCY_MS). */
admin.put("/register", async (c) => {
  if (!isDevelopment(c.env)) throw new ApiError("forbidden", "the register latency drill exists only in development");
  const body = await readJson(c, RegisterDrillSchema);
  setSimulatedLatency(body.simulated_latency_ms);
  c.header("cache-control", "no-store");
  return c.json({ simulated_latency_ms: registerOptionsFromEnv(c.env).latencyMs });
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
