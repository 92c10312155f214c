import { createApp } from "./app";
import type { Env } from "./config/env";
import { guardBindings } from "./edge/durable-guard";

export { IssuanceSessions } from "../durable-objects/issuance-sessions";
export { QueueShard } from "../durable-objects/queue-shard";
export { ReplayGuard } from "../durable-objects/replay-guard";
export { RoomCoordinator } from "../durable-objects/room-coordinator";

const app = createApp();

export default {
  // Durable Object calls get a deadline and fail as retryable 503s (src/edge/durable-guard.ts).
  fetch: (request, env, ctx) => app.fetch(request, guardBindings(env), ctx),
} satisfies ExportedHandler<Env>;
