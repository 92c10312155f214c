import { Hono } from "hono";
import { z } from "zod";
import { isDevelopment } from "../config/env";
import { settingsOf } from "../config/settings";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson } from "../http/request";
import { mintDevIdentityAssertion } from "../identity/dev-identity";
import { clock } from "../lib/clock";
import { ensureRegisterSchema, seedRegister, setLicenceStatus } from "../register/seed";
import { LICENCE_STATUSES } from "../register/licence-holder";
import { syncRegisterChanges } from "../lifecycle/register-sync";
import { faultRoutes } from "../faults/routes";
import { JKT_PATTERN } from "../auth/jkt";
import { devIdentityProvider } from "./identity-provider";
import { KeyAttestationRequestSchema, mintKeyAttestation, mintWalletAttestation, WalletAttestationRequestSchema } from "./wallet-provider";

/**
 * Development-only helpers: a stand-in national identity service, a stand-in wallet provider, the fault
 * switch, and seeding the synthetic register. Mounted at /v1/dev by the development kit (src/dev/kit.ts) only, so a production
 * bundle has none of it; and even a development build run with another ENVIRONMENT answers every path
 * here with a plain 404, as if it did not exist.
 */
export const dev = new Hono<AppEnv>();

dev.use("*", async function developmentOnly(c, next) {
  if (!isDevelopment(c.env)) throw new ApiError("not_found", `no resource at ${c.req.method} ${new URL(c.req.url).pathname}`);
  await next();
});

const AssertionRequestSchema = z
  .object({
    person_id: z.string().min(1).max(128),
    /** The device key's RFC 7638 thumbprint: the assertion is then bound to it (`cnf.jkt`). */
    jkt: z.string().regex(JKT_PATTERN).optional(),
  })
  .strict();

dev.post("/identity-assertions", async (c) => {
  const { person_id, jkt } = await readJson(c, AssertionRequestSchema);
  const lifetime = 300;
  const assertion = await mintDevIdentityAssertion(person_id, settingsOf(c.env).identity.audience, clock.now(), lifetime, jkt);
  c.header("cache-control", "no-store");
  return c.json({ identity_assertion: assertion, expires_in: lifetime }, 201);
});

/** The embedded OpenID Connect provider of the authorization code flow (src/dev/identity-provider.ts). */
dev.route("/oidc", devIdentityProvider);
/** The development wallet provider (src/dev/wallet-provider.ts): a wallet attestation for {client_id, jwk}. */
dev.post("/wallet-attestations", async (c) => {
  const request = await readJson(c, WalletAttestationRequestSchema);
  c.header("cache-control", "no-store");
  return c.json(await mintWalletAttestation(request, clock.now()), 201);
});

/** A key attestation for {attested_keys, key_storage, user_authentication, nonce?}. */
dev.post("/key-attestations", async (c) => {
  const request = await readJson(c, KeyAttestationRequestSchema);
  c.header("cache-control", "no-store");
  return c.json(await mintKeyAttestation(request, clock.now()), 201);
});

/** The fault switch (src/faults): admin token too. */
dev.route("/faults", faultRoutes);

/** Create and fill the synthetic licence register (idempotent: `npm start` calls it on every start). */
dev.post("/register/seed", async (c) => {
  await ensureRegisterSchema(c.env.REGISTER);
  return c.json(await seedRegister(c.env.REGISTER));
});

const LicenceStatusRequestSchema = z.object({ person_id: z.string().min(1).max(64), status: z.enum(LICENCE_STATUSES) }).strict();

/**
 * A licence status change in the synthetic register, as the register's own services would make it (the
 * change log gets its row): to try a suspension locally. 404 for someone with no licence.
 */
dev.post("/register/licence-status", async (c) => {
  const body = await readJson(c, LicenceStatusRequestSchema);
  await ensureRegisterSchema(c.env.REGISTER);
  if (!(await setLicenceStatus(c.env.REGISTER, body.person_id, body.status, clock.now())))
    throw new ApiError("not_found", "no licence is registered for this person");
  c.header("cache-control", "no-store");
  return c.json({ status: body.status });
});

/**
 * Applies the register's pending changes now instead of at the next cron run (`wrangler dev` runs no
 * cron trigger): what the scheduled handler does every minute in a deployment.
 */
dev.post("/register/sync", async (c) => {
  await ensureRegisterSchema(c.env.REGISTER);
  c.header("cache-control", "no-store");
  return c.json(await syncRegisterChanges(c.env, clock.now()));
});
