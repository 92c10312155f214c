import { Hono } from "hono";
import type { AppEnv } from "../http/app-env";
import { fetchHandoffOffer } from "../issuance/handoff-offer";
import { issuerOrigin } from "../issuance/issuer-url";
import { clock } from "../lib/clock";

/**
 * Credential offers by reference (OpenID4VCI 1.0 section 4.1.3): the URL a wallet finds in the
 * `credential_offer_uri` of the waiting page's QR code. Single use: src/issuance/handoff-offer.ts.
 */
export const offers = new Hono<AppEnv>();

offers.get("/:id", async (c) => {
  const offer = await fetchHandoffOffer(c.env, issuerOrigin(c.env, c.req.url), c.req.param("id"), clock.now());
  return c.json(offer, 200, { "cache-control": "no-store", pragma: "no-cache" });
});
