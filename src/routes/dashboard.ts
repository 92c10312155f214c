import { Hono, type Context } from "hono";
import { z } from "zod";
import { secret } from "../config/env";
import { settingsOf } from "../config/settings";
import { RoomNameSchema } from "../config/room-config";
import { sameSecret } from "../http/admin-auth";
import { endSession, renewIfDue, sameOrigin, sessionFromRequest, startSession } from "../http/admin-session";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { logger } from "../log/logger";
import { assetAt } from "../pages/dashboard/assets";
import { dashboardPage } from "../pages/dashboard/dashboard-page";
import { disabledPage, loginPage } from "../pages/dashboard/login-page";
import { ASSET_HEADERS, PAGE_HEADERS } from "../pages/dashboard/security-headers";

/**
 * The operator dashboard (HTML). Pages only: every number it shows and every change it makes goes
 * through the admin API (/v1/admin), with the session cookie this router issues at login.
 *
 *   GET  /admin              the dashboard with a valid session; else the login form (401)
 *   POST /admin/login        form `token` (+ `room`): checks the admin token, sets the session cookie
 *   POST /admin/logout       clears it
 *   GET  /admin/assets/…     the stylesheet (content-hashed, public: it holds no secrets); the script is a
 *                            static asset, /static/dashboard.js (src/pages/dashboard/assets.ts)
 */
export const dashboard = new Hono<AppEnv>();

const DEFAULT_ROOM = "permis";

/** The room asked for in the query (or form), if it is a valid name; else the first default room. */
function roomOf(c: Context<AppEnv>, asked: string | undefined): string {
  const parsed = RoomNameSchema.safeParse(asked);
  if (parsed.success) return parsed.data;
  return settingsOf(c.env).defaultRooms[0] ?? DEFAULT_ROOM;
}

const page = (c: Context<AppEnv>, html: string, status: 200 | 401 | 403) => {
  const headers: Record<string, string> = { ...PAGE_HEADERS };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="antichambre-admin"';
  return c.body(html, status, headers);
};

dashboard.get("/", async (c) => {
  const token = secret(c.env, "ADMIN_TOKEN");
  if (!token) return page(c, disabledPage(), 403);
  const room = roomOf(c, c.req.query("room"));
  const session = await sessionFromRequest(c, token);
  if (!session) return page(c, loginPage({ room }), 401);
  await renewIfDue(c, token, session);
  return page(c, dashboardPage({ room, rooms: [...settingsOf(c.env).defaultRooms] }), 200);
});

export const LoginSchema = z.object({ token: z.string().min(1).max(4096), room: z.string().max(40).optional() });

dashboard.post("/login", async (c) => {
  const token = secret(c.env, "ADMIN_TOKEN");
  if (!token) return page(c, disabledPage(), 403);
  // Login CSRF would only log a victim into our own dashboard, but there is no reason to allow it.
  if (!sameOrigin(c)) throw new ApiError("forbidden", "log in from this origin's own login form");
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("unsupported_media_type", "send the login form as application/x-www-form-urlencoded");
  }
  const parsed = LoginSchema.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())));
  const room = roomOf(c, parsed.success ? parsed.data.room : undefined);
  if (!parsed.success || !(await sameSecret(parsed.data.token, token))) {
    logger.warn("admin_login", { outcome: "failed" });
    return page(c, loginPage({ room, message: "That is not the admin token." }), 401);
  }
  await startSession(c, token);
  logger.info("admin_login", { outcome: "ok" });
  c.header("cache-control", "no-store");
  return c.redirect(`/admin?room=${encodeURIComponent(room)}`, 303);
});

dashboard.post("/logout", (c) => {
  if (!sameOrigin(c)) throw new ApiError("forbidden", "log out from this origin's own dashboard");
  endSession(c);
  c.header("cache-control", "no-store");
  return c.redirect("/admin", 303);
});

dashboard.get("/assets/:file", (c) => {
  const asset = assetAt(new URL(c.req.url).pathname);
  if (!asset) throw new ApiError("not_found", "no such dashboard asset");
  return c.body(asset.body, 200, { ...ASSET_HEADERS, "content-type": asset.contentType });
});
