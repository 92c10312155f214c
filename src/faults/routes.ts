import { Hono } from "hono";
import { z } from "zod";
import { requireAdmin } from "../http/admin-auth";
import type { AppEnv } from "../http/app-env";
import { readJson } from "../http/request";
import { armFaults, disarmFaults, FAULT_POINTS, faultReport, resetFaultCounts, type FaultPlan, type FaultPoint } from "./faults";

/**
 * The fault switch over HTTP, for `npm run faults` and `npm run soak` against a real `npm start`.
 * Mounted under /v1/dev (404 outside development, like every development route) and behind the admin
 * token as well: a development server may listen on a LAN (`npm start -- --ip 0.0.0.0`).
 *
 *   PUT    /v1/dev/faults  {"seed": 7, "faults": {"shard.sync": {"mode": "throw", "probability": 0.5}}}
 *   GET    /v1/dev/faults  → {points, armed, fired}
 *   DELETE /v1/dev/faults  → disarms everything; answers what fired since the last PUT
 */
export const faultRoutes = new Hono<AppEnv>();

faultRoutes.use("*", requireAdmin);

const RuleSchema = z
  .object({
    mode: z.enum(["throw", "delay"]),
    delay_ms: z.number().int().min(0).max(60_000).optional(),
    times: z.number().int().min(1).max(1_000_000).optional(),
    probability: z.number().min(0).max(1).optional(),
  })
  .strict();

const ArmSchema = z
  .object({
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    faults: z.partialRecord(z.enum(FAULT_POINTS), RuleSchema),
  })
  .strict();

function report() {
  return { points: FAULT_POINTS, ...faultReport() };
}

faultRoutes.get("/", (c) => {
  c.header("cache-control", "no-store");
  return c.json(report());
});

faultRoutes.put("/", async (c) => {
  const body = await readJson(c, ArmSchema);
  const plan: FaultPlan = {};
  for (const [point, r] of Object.entries(body.faults) as [FaultPoint, z.infer<typeof RuleSchema>][]) {
    plan[point] = { mode: r.mode, delayMs: r.delay_ms, times: r.times, probability: r.probability };
  }
  resetFaultCounts();
  armFaults(c.env, plan, body.seed);
  c.header("cache-control", "no-store");
  return c.json(report());
});

faultRoutes.delete("/", (c) => {
  disarmFaults();
  c.header("cache-control", "no-store");
  return c.json(report());
});
