// Types for `import { env, exports } from "cloudflare:workers"` inside tests.
type AntichambreEnv = import("../src/config/env").Env;
declare namespace Cloudflare {
  interface Env extends AntichambreEnv {}
  interface GlobalProps {
    mainModule: typeof import("../src/index");
    durableNamespaces: "RoomCoordinator" | "QueueShard" | "ReplayGuard";
  }
}
