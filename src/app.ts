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
import { offers } from "./routes/offers";
import { openapi } from "./routes/openapi";
import { statusLists } from "./routes/status-lists";
import { trustAnchors, wellKnown } from "./routes/well-known";

/** No request this API accepts comes near this; anything larger is refused before it is read. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface AppOptions {
  /** Development only (src/dev/kit.ts): secret defaults and the /v1/dev routes. */
  devKit?: DevKit;
}

export function createApp({ devKit }: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requestLog);
  app.use("*", inputLimits);
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  // The development kit first: its secret defaults are what the address limits below key with.
  devKit?.install(app);
  // Every variable and secret validated before any handler runs: a deployment with a bad one answers
  // every request 503 not-configured naming it (src/config/settings.ts), instead of running on a guess.
  app.use("*", validSettings);
  // Per client address, before any handler runs (docs/threats/rate-limits.md). The join and the
  // challenge count addresses in their handlers; /credential counts per session once its token opens.
  app.use("/token", limitPerAddress("token_client"));
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
  app.route("/", trustAnchors);
  app.route("/", statusLists);
  app.route("/", openapi);
  app.notFound(notFoundOrWrongMethod(app));
  app.onError(onError);
  return app;
}
