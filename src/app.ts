import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { limitPerAddress } from "./edge/address-limit";
import type { AppEnv } from "./http/app-env";
import type { DevKit } from "./http/dev-kit";
import { onError } from "./http/errors";
import { inputLimits } from "./http/input-limits";
import { notFoundOrWrongMethod } from "./http/method-not-allowed";
import { ApiError } from "./http/problem";
import { requestLog } from "./http/request-log";
import { validSettings } from "./http/valid-settings";
import { admin } from "./routes/admin";
import { challenge } from "./routes/challenge";
import { dashboard } from "./routes/dashboard";
import { pages } from "./routes/pages";
import { rooms } from "./routes/rooms";
import { tickets } from "./routes/tickets";
import { oid4vci } from "./routes/oid4vci";
import { authorization } from "./routes/authorization";
import { offers } from "./routes/offers";
import { openapi } from "./routes/openapi";
import { statusLists } from "./routes/status-lists";
import { trustAnchors, wellKnown } from "./routes/well-known";

/** No request this API accepts comes near this; anything larger is refused before it is read. */
export const MAX_BODY_BYTES = 16 * 1024;
/**
 * The one exception: a credential request's key proofs may each carry a key attestation with its
 * certificate chain (OpenID4VCI appendix D), base64 inside base64: about 6 KiB a proof with a
 * two-certificate chain, so a batch of four is over 16 KiB. Proofs are capped at 8 KiB each
 * (src/issuance/key-proof.ts).
 */
export const MAX_CREDENTIAL_BODY_BYTES = 64 * 1024;

export interface AppOptions {
  /** Development only (src/dev/kit.ts): secret defaults and the /v1/dev routes. */
  devKit?: DevKit;
}

export function createApp({ devKit }: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requestLog);
  app.use("*", inputLimits);
  const limitTo = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError("payload_too_large", `request bodies are limited to ${maxSize} bytes`);
      },
    });
  const anyBody = limitTo(MAX_BODY_BYTES);
  const credentialBody = limitTo(MAX_CREDENTIAL_BODY_BYTES);
  app.use("*", function bodyLimits(c, next) {
    return (c.req.method === "POST" && c.req.path === "/credential" ? credentialBody : anyBody)(c, next);
  });
  // The development kit first: its secret defaults are what the address limits below key with.
  devKit?.install(app);
  // Every variable and secret validated before any handler runs: a deployment with a bad one answers
  // every request 503 not-configured naming it (src/config/settings.ts), instead of running on a guess.
  app.use("*", validSettings);
  // Per client address, before any handler runs (docs/threats/rate-limits.md). The join and the
  // challenge count addresses in their handlers; /credential counts per session once its token opens.
  app.use("/token", limitPerAddress("token_client"));
  // Wallets push their authorization requests at the rate they redeem codes: the same budget per address.
  app.use("/par", limitPerAddress("token_client"));
  app.use("/nonce", limitPerAddress("nonce_client"));
  app.use("/notification", limitPerAddress("notification_client"));
  app.use("/v1/admin/*", limitPerAddress("admin_client"));
  app.use("/admin/login", limitPerAddress("admin_login_client"));
  app.route("/.well-known", wellKnown);
  app.route("/v1/rooms", tickets);
  app.route("/v1/rooms", challenge);
  app.route("/v1/rooms", rooms);
  app.route("/v1/admin", admin);
  app.route("/rooms", pages);
  app.route("/admin", dashboard);
  app.route("/offers", offers);
  app.route("/", oid4vci);
  app.route("/", authorization);
  app.route("/", trustAnchors);
  app.route("/", statusLists);
  app.route("/", openapi);
  app.notFound(notFoundOrWrongMethod(app));
  app.onError(onError);
  return app;
}
