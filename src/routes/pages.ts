import { ConfigError } from "../config/config-error";
import { Hono, type Context } from "hono";
import { getCookie } from "hono/cookie";
import { isDevelopment } from "../config/env";
import { RoomNameSchema } from "../config/room-config";
import { roomSnapshot } from "../edge/snapshot-cache";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { parseStart, setCookieValue, START_COOKIE, TICKET_COOKIE } from "../pages/cookies";
import { newNonce, pageHeaders } from "../pages/document";
import { negotiateLang } from "../pages/i18n";
import type { StatusView } from "../pages/status-view";
import { PUBLIC_REFRESH_SECONDS, renderNotFoundPage, renderUnavailablePage, renderWaitingPage } from "../pages/waiting-page";
import { publicRoomView } from "./rooms";
import { currentTicket } from "./tickets";

/**
 * The waiting page for people on the web: `GET /rooms/{room}`. Thin on purpose: the status comes from
 * the same functions as the API (the poll's `currentTicket`, the public `publicRoomView`), the HTML from
 * the pure renderers in src/pages. This browser route answers HTML, errors included; the JSON API under
 * /v1 keeps its problem documents.
 */
export const pages = new Hono<AppEnv>();

pages.get("/:room", async (c) => {
  const lang = negotiateLang(c.req.query("lang"), c.req.header("accept-language"));
  const nonce = newNonce();
  const headers = pageHeaders(nonce);
  const asked = c.req.param("room");
  const parsed = RoomNameSchema.safeParse(asked);
  try {
    const snapshot = parsed.success ? await roomSnapshot(c.env, parsed.data) : null;
    if (!parsed.success || !snapshot) return c.html(renderNotFoundPage({ lang, nonce, room: asked }), 404, headers);
    const room = parsed.data;
    let view: StatusView = { status: "public", room: publicRoomView(room, snapshot) };
    let refreshSeconds: number | null = PUBLIC_REFRESH_SECONDS;
    const ticket = getCookie(c, TICKET_COOKIE);
    if (ticket) {
      try {
        const answer = await currentTicket(c.env, room, ticket, c.req.url);
        view = answer.body;
        // Waiting: come back when a poll would. Admitted or expired: nothing changes by itself, and a
        // refresh would redraw the QR code while someone is scanning it.
        refreshSeconds = answer.retryAfterSeconds;
      } catch (error) {
        // A stale or foreign ticket is not this visitor's problem to read about: show the room, forget it.
        if (!(error instanceof ApiError && error.kind === "invalid_ticket")) throw error;
        forgetTicket(c, room);
      }
      if (view.status === "expired") forgetTicket(c, room);
    }
    return c.html(
      renderWaitingPage({
        lang,
        room,
        nonce,
        view,
        start: parseStart(getCookie(c, START_COOKIE)),
        updatedAt: clock.now(),
        refreshSeconds,
        development: isDevelopment(c.env),
        demoPersonId: `FR-${String(1 + Math.floor(Math.random() * 10_000)).padStart(6, "0")}`,
      }),
      200,
      headers,
    );
  } catch (error) {
    // State unreachable or a deployment missing a secret: a page that retries by itself, not JSON.
    const unavailable = (error instanceof ApiError && error.status === 503) || error instanceof ConfigError;
    if (!unavailable) throw error;
    const retryAfterSeconds = (error instanceof ApiError && Number(error.headers["retry-after"])) || PUBLIC_REFRESH_SECONDS;
    return c.html(renderUnavailablePage({ lang, nonce, retryAfterSeconds }), 503, { ...headers, "retry-after": String(retryAfterSeconds) });
  }
});

function forgetTicket(c: Context<AppEnv>, room: string): void {
  const secure = new URL(c.req.url).protocol === "https:";
  for (const name of [TICKET_COOKIE, START_COOKIE]) {
    c.header("set-cookie", setCookieValue(name, "", { room, maxAgeSeconds: 0, secure }), { append: true });
  }
}
