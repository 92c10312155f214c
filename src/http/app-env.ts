import type { Env } from "../config/env";

/** Hono's typed context for every router of the Worker. */
export interface AppEnv {
  Bindings: Env;
}
