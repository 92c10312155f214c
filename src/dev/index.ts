/**
 * The development entry: `npm start` (tools/start.mjs), the tests (vitest.config.ts), the end-to-end,
 * browser and bench runs. The production app plus the development kit (src/dev/kit.ts); its Durable
 * Object classes are the production entry's own, re-exported, so what the tests exercise is the code
 * that deploys. Never deployed: wrangler.toml's `main` is src/index.ts.
 */
import { workerHandler } from "../edge/worker";
import { createDevApp } from "./kit";
import { isDevelopment } from "../config/env";
import { withDevSecrets } from "./secrets";

export { IssuanceLedger, IssuanceSessions, LifecycleLog, QueueShard, ReplayGuard, RoomCoordinator } from "../index";

// The scheduled handler has no request to run the kit's middleware on: it gets the same secret defaults here.
export default workerHandler(createDevApp(), { scheduledEnv: (env) => (isDevelopment(env) ? withDevSecrets(env) : env) });
