import { settingsOf, type SecretName, type VariableName } from "./settings";

/**
 * The Worker's env. Its bindings come from worker-configuration.d.ts, which `wrangler types` generates
 * from wrangler.toml (`npm test` fails if the committed file is stale: tools/test.mjs). Variables
 * and secrets are typed here as what they are before validation, optional text: code reads them only
 * through `settingsOf(env)` (src/config/settings.ts), never as `env.X`.
 *
 * Optional bindings: the rate limiters and the static assets exist in wrangler.toml but a test (or a
 * deployment that removes them) may run without; Analytics Engine is commented out there.
 */
type OptionalBinding = Extract<keyof Cloudflare.Env, `${string}_LIMITER` | "ASSETS">;
type Bindings = Omit<Cloudflare.Env, VariableName | SecretName | OptionalBinding>;

export interface Env extends Bindings, Partial<Pick<Cloudflare.Env, OptionalBinding>>, EnvText {
  /** Workers Analytics Engine dataset (optional): admissions and issuance outcomes (src/metrics/analytics.ts). */
  ANALYTICS?: AnalyticsEngineDataset;
}

/** Every variable and secret the settings schema knows, as raw text (docs/configuration.md). */
export type EnvText = { [K in VariableName | SecretName]?: string };

/**
 * Compile-time: every variable wrangler.toml declares is validated by the settings schema. A new
 * [vars] entry without a schema entry fails `tsc` here, naming it.
 */
type GeneratedVariable = { [K in keyof Cloudflare.Env]-?: Cloudflare.Env[K] extends string | undefined ? K : never }[keyof Cloudflare.Env];
type EveryVariableValidated<Unvalidated extends never> = Unvalidated;
type _CheckedVariables = EveryVariableValidated<Exclude<GeneratedVariable, VariableName | SecretName>>;

export type { SecretName } from "./settings";
export { required, secret } from "./settings";

export function isDevelopment(env: Env): boolean {
  return settingsOf(env).development;
}
