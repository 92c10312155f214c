import { Hono } from "hono";
import { secret } from "../config/env";
import type { AppEnv } from "../http/app-env";
import { ecKeyring } from "../tickets/keyring";

/** Public keys of the service's ES256 signers (admission tokens), each with its `kid`. */
export const wellKnown = new Hono<AppEnv>();

wellKnown.get("/jwks.json", async (c) => {
  const keys = await ecKeyring(secret(c.env, "SIGNING_KEYS"));
  c.header("cache-control", "public, max-age=300");
  return c.json({ keys: keys.publicJwks });
});
