import type { MiddlewareHandler } from "hono";
import { settingsOf } from "../config/settings";
import type { AppEnv } from "./app-env";

/**
 * Parses the env's settings (once per env object) before any handler: a bad variable becomes the
 * ConfigError that onError answers as 503 not-configured, listing every bad name, on every route alike,
 * rather than surfacing only on the endpoints that happen to read it.
 */
export const validSettings: MiddlewareHandler<AppEnv> = async function validSettings(c, next) {
  settingsOf(c.env);
  await next();
};
