/**
 * The production entry (wrangler.toml `main`: what `wrangler deploy` and `npm run build` bundle). It
 * imports nothing of development: no secret defaults, no /v1/dev routes, no fault switch
 * (test/build/production-bundle.test.mjs builds it and checks). `npm start` and the tests run
 * src/dev/index.ts, which wraps this app with the development kit.
 */
import { createApp } from "./app";
import { workerHandler } from "./edge/worker";

export { IssuanceLedger } from "../durable-objects/issuance-ledger";
export { IssuanceSessions } from "../durable-objects/issuance-sessions";
export { LifecycleLog } from "../durable-objects/lifecycle-log";
export { QueueShard } from "../durable-objects/queue-shard";
export { ReplayGuard } from "../durable-objects/replay-guard";
export { RoomCoordinator } from "../durable-objects/room-coordinator";

export default workerHandler(createApp());
