import { Hono } from "hono";
import type { AppEnv } from "../http/app-env";
import { openApiDocument } from "../http/openapi/document";
import { issuerOrigin } from "../issuance/issuer-url";

/** GET /openapi.json: the API described for client generators (docs/api.md). */
export const openapi = new Hono<AppEnv>();

openapi.get("/openapi.json", (c) => {
  c.header("cache-control", "public, max-age=300");
  // The server is this deployment's public origin; the rest is the same for every request.
  return c.json({ ...openApiDocument(), servers: [{ url: issuerOrigin(c.env, c.req.url) }] });
});
