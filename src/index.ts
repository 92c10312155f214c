import { createApp } from "./app";
import type { Env } from "./config/env";

export { QueueShard } from "../durable-objects/queue-shard";
export { ReplayGuard } from "../durable-objects/replay-guard";
export { RoomCoordinator } from "../durable-objects/room-coordinator";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
