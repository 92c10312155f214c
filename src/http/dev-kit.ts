import type { Hono } from "hono";
import type { AppEnv } from "./app-env";

/**
 * What a development build adds to the app: its secret defaults, the /v1/dev routes, the dev identity
 * service. The production entry (src/index.ts) passes none, and so imports none of it: a deployed
 * bundle cannot contain a development key or route, whatever ENVIRONMENT says. The development entry
 * (src/dev/index.ts) passes src/dev/kit.ts.
 */
export interface DevKit {
  /** Adds the kit's middleware and routes to a fresh app, after its input limits and before its routes. */
  install(app: Hono<AppEnv>): void;
}
