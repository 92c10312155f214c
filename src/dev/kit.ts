import type { Hono } from "hono";
import { createApp } from "../app";
import { isDevelopment } from "../config/env";
import type { AppEnv } from "../http/app-env";
import type { DevKit } from "../http/dev-kit";
import { dev } from "./routes";
import { withDevIdentityProvider, withDevSecrets } from "./secrets";
import { settingsOf } from "../config/settings";
import { DEV_OIDC_PATH } from "../config/dev-defaults";

/**
 * The development kit (src/http/dev-kit.ts): with ENVIRONMENT=development, every secret the env lacks
 * takes its public default (src/dev/secrets.ts), and /v1/dev serves the dev identity service, the fault
 * switch and the register seed. Unless OIDC_ISSUER names another provider, the authorization flow's
 * relying party is pointed at the embedded OpenID Connect provider (/v1/dev/oidc). With any other
 * ENVIRONMENT it changes nothing (the routes answer 404).
 *
 * Why the defaults are filled into c.env rather than looked up where a secret is read: every handler
 * reads secrets from the env it is given (src/config/env.ts, `secret`), so the production code has one
 * path and no knowledge that defaults exist. The copy is made once per env object (src/dev/secrets.ts),
 * in development only, so its settings are parsed once too (src/config/settings.ts memoises per object).
 */
export const devKit: DevKit = {
  install(app: Hono<AppEnv>): void {
    app.use("*", async function developmentSecrets(c, next) {
      if (isDevelopment(c.env)) {
        const origin = settingsOf(c.env).publicOrigin ?? new URL(c.req.url).origin;
        c.env = withDevIdentityProvider(withDevSecrets(c.env), origin);
        // The embedded identity provider is this very app: its token and key requests are answered
        // in-process (a Worker cannot fetch its own origin in workerd), everything else goes out.
        const embedded = `${origin}${DEV_OIDC_PATH}/`;
        const env = c.env;
        let ctx: ExecutionContext | undefined;
        try {
          ctx = c.executionCtx;
        } catch {
          ctx = undefined;
        }
        c.set("identityFetch", async (request: Request) =>
          request.url.startsWith(embedded) ? app.fetch(request, env, ctx) : fetch(request),
        );
      }
      await next();
    });
    app.route("/v1/dev", dev);
  },
};

/** The app as the development entry serves it (tests that call the app directly use this). */
export function createDevApp(): Hono<AppEnv> {
  return createApp({ devKit });
}
