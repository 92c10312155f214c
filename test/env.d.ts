// Types for `import { env, exports } from "cloudflare:workers"` inside tests: the bindings wrangler.toml
// declares (worker-configuration.d.ts, generated), plus the variables and secrets as optional text.
type AntichambreEnvText = import("../src/config/env").EnvText;
declare namespace Cloudflare {
  interface Env extends AntichambreEnvText {
    ANALYTICS?: AnalyticsEngineDataset;
  }
}
