import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SESSION_IDLE_SECONDS } from "../../src/http/admin-session";
import { ASSETS, DASHBOARD_SCRIPT } from "../../src/pages/dashboard/assets";
import { ADMIN_TOKEN, ORIGIN, call, createRoom, expectProblem, testClock, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

/**
 * The operator dashboard's browser-facing rules: login form, session cookie (signed, HttpOnly,
 * SameSite=Strict, never the token), the admin API accepting the cookie for reads and, for changes,
 * only with the same-origin custom header (CSRF), logout, and a strict CSP with no inline code.
 */
// redirect: "manual": a followed 303 would lose the Set-Cookie this test is about.
const form = (fields: Record<string, string>) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin" },
  body: new URLSearchParams(fields).toString(),
});

async function login(room = "permis", origin = ORIGIN): Promise<{ res: Response; cookie: string }> {
  const res = await call("/admin/login", { ...form({ token: ADMIN_TOKEN, room }), headers: { ...form({}).headers, origin } });
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { res, cookie: setCookie.split(";")[0]! };
}

const withCookie = (cookie: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), cookie },
});
const CSRF = { "x-antichambre-admin": "1" };

describe("login", () => {
  it("GET /admin without a session is the login form, 401, under a strict CSP", async () => {
    const res = await call("/admin");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html).toContain('<form class="login" method="post" action="/admin/login">');
    expect(html).toContain('type="password"');
  });

  it("a wrong token is 401 and sets no cookie", async () => {
    const res = await call("/admin/login", form({ token: "not-the-token" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That is not the admin token.");
  });

  it("the right token redirects to the room with an HttpOnly, SameSite=Strict session cookie that is not the token", async () => {
    const { res, cookie } = await login("permis");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin?room=permis");
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^antichambre_admin=v1\./);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).toContain(`Max-Age=${SESSION_IDLE_SECONDS}`);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    expect(cookie).not.toContain(ADMIN_TOKEN);
  });

  it("over https the cookie is __Host- and Secure", async () => {
    const res = await exportsFetch("https://antichambre.test/admin/login", {
      ...form({ token: ADMIN_TOKEN }),
      headers: { ...form({}).headers, origin: "https://antichambre.test" },
    });
    expect(res.status).toBe(303);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^__Host-antichambre_admin=v1\./);
    expect(setCookie).toContain("Secure");
    expect(setCookie).not.toContain("Domain=");
  });

  it("a login posted from another origin is refused", async () => {
    const res = await call("/admin/login", {
      ...form({ token: ADMIN_TOKEN }),
      headers: { ...form({}).headers, origin: "https://evil.example" },
    });
    await expectProblem(res, 403, "forbidden");
  });
});

describe("the dashboard page", () => {
  it("is served with a session: no inline script or style, the script the bundled static asset", async () => {
    const { cookie } = await login();
    const res = await call("/admin?room=permis", withCookie(cookie));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(DASHBOARD_SCRIPT).toBe("/static/dashboard.js");
    expect(html).toContain(`<script type="module" src="${DASHBOARD_SCRIPT}"></script>`);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).toContain('data-room="permis"');
    for (const id of ["pause-form", "limits-form", "method-form", "event-form", "lottery-form", "shard-rows"])
      expect(html).toContain(`id="${id}"`);
  });

  it("escapes the room it is asked for, and falls back to the default room for a malformed one", async () => {
    const { cookie } = await login();
    const html = await (await call("/admin?room=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", withCookie(cookie))).text();
    expect(html).not.toContain("<script>alert");
    expect(html).toContain('data-room="permis"');
  });

  it("serves its stylesheet with immutable caching and the right type; unknown hashes are 404", async () => {
    const css = await call(ASSETS.css.path);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toContain("immutable");
    await expectProblem(await call("/admin/assets/dashboard.00000000.css"), 404, "not-found");
    // The script is no longer a Worker asset: the old content-hashed path is gone, not a second copy.
    await expectProblem(await call("/admin/assets/dashboard.00000000.js"), 404, "not-found");
  });

  it("its script is the bundle Workers Static Assets serve, revalidated rather than cached blind", async () => {
    const js = await env.ASSETS!.fetch(`http://assets.local${DASHBOARD_SCRIPT}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("etag")).toBeTruthy();
    expect(js.headers.get("cache-control") ?? "").not.toContain("immutable");
    const text = await js.text();
    // The CSRF header every admin call carries, and the API it polls: the bundle is the dashboard's.
    expect(text).toContain("x-antichambre-admin");
    expect(text).toContain("/v1/admin/rooms/");
  });
});

describe("the admin API with a session cookie", () => {
  it("reads with the cookie alone", async () => {
    const { cookie } = await login();
    expect((await call("/v1/admin/rooms/permis", withCookie(cookie))).status).toBe(200);
    expect((await call("/v1/admin/register", withCookie(cookie))).status).toBe(200);
    expect((await call("/v1/admin/metrics", withCookie(cookie))).status).toBe(200);
  });

  it("changes only with the custom header from the same origin (CSRF)", async () => {
    const room = await createRoom();
    const { cookie } = await login(room);
    const put = (headers: Record<string, string>) =>
      call(
        `/v1/admin/rooms/${room}`,
        withCookie(cookie, {
          method: "PUT",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ paused: true }),
        }),
      );
    await expectProblem(await put({}), 403, "forbidden");
    await expectProblem(await put({ "x-antichambre-admin": "yes" }), 403, "forbidden");
    await expectProblem(await put({ ...CSRF, origin: "https://evil.example" }), 403, "forbidden");
    await expectProblem(await put({ ...CSRF, "sec-fetch-site": "cross-site" }), 403, "forbidden");
    const ok = await put({ ...CSRF, origin: ORIGIN, "sec-fetch-site": "same-origin" });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { config: { paused: boolean } }).config.paused).toBe(true);
  });

  it("an Authorization header is judged alone: a wrong token fails even with a good cookie", async () => {
    const { cookie } = await login();
    const res = await call("/v1/admin/rooms/permis", withCookie(cookie, { headers: { authorization: "Bearer wrong" } }));
    await expectProblem(res, 401, "unauthorized");
  });

  it("a forged or expired cookie is 401; a session in use is renewed", async () => {
    const { cookie } = await login();
    const [name, value] = cookie.split("=") as [string, string];
    const forged = `${name}=${value.slice(0, -4)}AAAA`;
    await expectProblem(await call("/v1/admin/rooms/permis", withCookie(forged)), 401, "unauthorized");
    expect((await call("/admin", withCookie(forged))).status).toBe(401);

    testClock.advance((SESSION_IDLE_SECONDS - 10 * 60) * 1000);
    const renewed = await call("/v1/admin/rooms/permis", withCookie(cookie));
    expect(renewed.status).toBe(200);
    const fresh = renewed.headers.get("set-cookie");
    expect(fresh).toMatch(/^antichambre_admin=v1\./);

    testClock.advance(11 * 60 * 1000);
    await expectProblem(await call("/v1/admin/rooms/permis", withCookie(cookie)), 401, "unauthorized");
    expect((await call("/admin", withCookie(cookie))).status).toBe(401);
    expect((await call("/v1/admin/rooms/permis", withCookie(fresh!.split(";")[0]!))).status).toBe(200);
  });

  it("logout clears the cookie; a cross-origin logout is refused", async () => {
    const { cookie } = await login();
    await expectProblem(
      await call("/admin/logout", withCookie(cookie, { method: "POST", headers: { origin: "https://evil.example" } })),
      403,
      "forbidden",
    );
    const res = await call("/admin/logout", withCookie(cookie, { method: "POST", redirect: "manual", headers: { origin: ORIGIN } }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    expect(res.headers.get("set-cookie")).toMatch(/^antichambre_admin=; Max-Age=0/);
  });
});

function exportsFetch(url: string, init: RequestInit): Promise<Response> {
  return import("cloudflare:workers").then(({ exports }) => exports.default.fetch(url, init));
}

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
