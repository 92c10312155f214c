import { Hono, type Context } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { enforceClientLimit, enforceRateLimit } from "../edge/rate-limits";
import { issuerOrigin } from "../issuance/issuer-url";
import { clock } from "../lib/clock";
import {
  CALLBACK_PATH,
  completeAuthorization,
  FLOW_COOKIE,
  FLOW_PATH,
  flowStatus,
  identityRedirect,
  openFlow,
  sealFlow,
  takeBrowserPlace,
  WAIT_PATH,
  walletRedirect,
  type Flow,
} from "../oauth/authorization";
import { withDpopNonce } from "../oauth/dpop-nonce";
import { ParFormSchema, pushAuthorizationRequest, takePushedRequest } from "../oauth/par";
import { renderAuthorizationErrorPage, renderAuthorizationWaitingPage, type AuthorizationErrorReason } from "../pages/authorization-page";
import { newNonce, pageHeaders } from "../pages/document";
import { negotiateLang } from "../pages/i18n";
import { TICKET_LIFETIME_SECONDS } from "../tickets/ticket-token";

/**
 * The authorization code flow's endpoints (docs/authorization-flow.md): POST /par (the wallet), then in
 * the browser GET /authorize → /authorize/wait (the waiting page, until admitted; then to the identity
 * provider) → /authorize/callback (back from it; to the wallet's redirect_uri with code, state, iss).
 * The browser routes answer HTML (or redirects), never JSON: a person reads them.
 */
export const authorization = new Hono<AppEnv>();

const noStore = { "cache-control": "no-store", pragma: "no-cache" };

// The answer carries a DPoP-Nonce, so a wallet's first token request has the nonce it needs (no use_dpop_nonce round trip).
authorization.post("/par", withDpopNonce, async (c) => {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? ""))
    throw new ApiError("invalid_request", "the pushed authorization request must be application/x-www-form-urlencoded", { status: 400 });
  const parsed = ParFormSchema.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())));
  if (!parsed.success)
    throw new ApiError("invalid_request", "malformed pushed authorization request", {
      extras: { errors: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  const pushed = await pushAuthorizationRequest(c.env, {
    form: parsed.data,
    attestation: c.req.header("oauth-client-attestation"),
    pop: c.req.header("oauth-client-attestation-pop"),
    dpop: c.req.header("dpop"),
    url: c.req.url,
    issuer: issuerOrigin(c.env, c.req.url),
    now: clock.now(),
  });
  return c.json(pushed, 201, noStore);
});

function langOf(c: Context<AppEnv>) {
  return negotiateLang(c.req.query("lang"), c.req.header("accept-language"));
}

function errorPage(c: Context<AppEnv>, reason: AuthorizationErrorReason, status: 400 | 403 = 400): Response {
  const nonce = newNonce();
  return c.html(renderAuthorizationErrorPage({ lang: langOf(c), nonce, reason }), status, pageHeaders(nonce));
}

function flowCookie(c: Context<AppEnv>, value: string, maxAgeSeconds: number): string {
  const secure = new URL(c.req.url).protocol === "https:";
  // HttpOnly: no script needs it. Lax, not Strict: it must come back with the identity provider's
  // top-level redirect to the callback, a cross-site navigation.
  return [
    `${FLOW_COOKIE}=${value}`,
    `Path=${FLOW_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Lax",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

async function storeFlow(c: Context<AppEnv>, flow: Omit<Flow, "exp">): Promise<void> {
  c.header("set-cookie", flowCookie(c, await sealFlow(c.env, flow, clock.now()), TICKET_LIFETIME_SECONDS));
}

function forgetFlow(c: Context<AppEnv>): void {
  c.header("set-cookie", flowCookie(c, "", 0));
}

/** RFC 9126 §4: only pushed requests (client_id and request_uri); anything else is refused on a page. */
authorization.get("/authorize", async (c) => {
  // Per address before anything else: each accepted request takes a place in line.
  await enforceClientLimit(c.env, c.req.raw, "join");
  const now = clock.now();
  const taken = await takePushedRequest(c.env, { clientId: c.req.query("client_id"), requestUri: c.req.query("request_uri"), now });
  if (!taken.ok) return errorPage(c, taken.reason);
  await storeFlow(c, await takeBrowserPlace(c.env, taken.request, now));
  const lang = c.req.query("lang");
  return c.redirect(lang ? `${WAIT_PATH}?lang=${encodeURIComponent(lang)}` : WAIT_PATH, 303);
});

authorization.get("/authorize/wait", async (c) => {
  const now = clock.now();
  const flow = await openFlow(c.env, getCookie(c, FLOW_COOKIE), now);
  if (!flow) return errorPage(c, "no_flow");
  // The poll's budget, per place: a copied cookie reloaded in a loop costs one snapshot read each.
  await enforceRateLimit(c.env, "poll", `${flow.room}/${flow.tid}`);
  const status = await flowStatus(c.env, flow, now);
  const issuer = issuerOrigin(c.env, c.req.url);
  if (status.status === "waiting") {
    const nonce = newNonce();
    return c.html(
      renderAuthorizationWaitingPage({
        lang: langOf(c),
        nonce,
        view: status,
        updatedAt: now,
        refreshSeconds: status.poll_after_seconds,
        clientId: flow.req.cid,
      }),
      200,
      { ...pageHeaders(nonce), "retry-after": String(status.poll_after_seconds) },
    );
  }
  if (status.status === "expired") {
    forgetFlow(c);
    return c.redirect(
      walletRedirect(flow.req, issuer, {
        error: "access_denied",
        description: "the admission expired before the identity step was completed",
      }),
      303,
    );
  }
  // Admitted: only now does the browser meet the identity provider.
  const next = await identityRedirect(c.env, flow, issuer);
  if (!flow.idp) await storeFlow(c, next.flow);
  c.header("cache-control", "no-store");
  return c.redirect(next.location, 303);
});

const CallbackSchema = z.object({
  state: z.string().min(1).max(512),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(256).optional(),
});

authorization.get(CALLBACK_PATH, async (c) => {
  const now = clock.now();
  const flow = await openFlow(c.env, getCookie(c, FLOW_COOKIE), now);
  if (!flow) return errorPage(c, "no_flow");
  const query = CallbackSchema.safeParse(c.req.query());
  // Only a browser this flow sent to the provider (admitted, with this state) comes back here.
  if (!flow.idp || !query.success || query.data.state !== flow.idp.st) return errorPage(c, "wrong_state");
  // Per place: a replayed callback cannot turn into a stream of calls to the provider's token endpoint.
  await enforceRateLimit(c.env, "poll", `${flow.room}/${flow.tid}`);
  const issuer = issuerOrigin(c.env, c.req.url);
  const finish = (location: string) => {
    forgetFlow(c);
    c.header("cache-control", "no-store");
    return c.redirect(location, 303);
  };
  if (!query.data.code)
    return finish(
      walletRedirect(flow.req, issuer, { error: "access_denied", description: "the identity service did not identify the person" }),
    );
  const status = await flowStatus(c.env, flow, now);
  if (status.status !== "admitted")
    return finish(
      walletRedirect(flow.req, issuer, {
        error: "access_denied",
        description: "the admission expired before the identity step was completed",
      }),
    );
  const answer = await completeAuthorization(c.env, c.var.identityFetch ?? ((r: Request) => fetch(r)), {
    flow,
    code: query.data.code,
    issuer,
    admissionExpiresAt: status.admission_expires_at,
    now,
  });
  return finish(walletRedirect(flow.req, issuer, answer));
});
