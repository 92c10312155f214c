/**
 * The development entry: `npm start` (tools/start.mjs), the tests (vitest.config.ts), the end-to-end,
 * browser and bench runs. The production app plus the development kit (src/dev/kit.ts); its Durable
 * Object classes are the production entry's own, re-exported, so what the tests exercise is the code
 * that deploys. Never deployed: wrangler.toml's `main` is src/index.ts.
 */
import { workerHandler } from "../edge/worker";
import { createDevApp } from "./kit";

export { IssuanceLedger, IssuanceSessions, LifecycleLog, QueueShard, ReplayGuard, RoomCoordinator } from "../index";

export default workerHandler(createDevApp());
