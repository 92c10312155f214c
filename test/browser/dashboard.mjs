// The operator dashboard (GET /admin) in real headless Chromium against `npm start`: log in with the
// admin token, watch the numbers move while people queued from Node (the client SDK) are admitted by the
// real alarm-driven ticks, pause and resume, change the limit, and check every control lands in the
// admin API. Screenshots: reports/screenshots/dashboard-*.png.

import { ADMIN_TOKEN, assert, assertEqual, http, need, putRoom, queuePerson, screenshot, sleep, watchPage } from "./harness.mjs";

export const title = "dashboard";

const PEOPLE = 8;

/** Polls `fn` until it returns a truthy value (returned) or `ms` pass (CheckError with `what`). */
async function until(what, fn, ms = 20_000, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(every);
  }
  assert(false, `timed out after ${ms / 1000} s waiting for ${what} (last: ${JSON.stringify(last)})`);
}

const number = (text) => Number(String(text).replace(/[^\d.]/g, ""));

async function roomConfig(base, room) {
  const res = await http(base, "GET", `/v1/admin/rooms/${room}`, { token: ADMIN_TOKEN });
  assert(res.status === 200, `GET /v1/admin/rooms/${room}: ${res.status}`);
  return res.json;
}

export async function run({ base, browser, checks }) {
  const room = `dash-${Date.now().toString(36)}`;
  const ctx = {};
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page);

  try {
    await checks.check("a paused room with people waiting (client SDK from Node)", async () => {
      await putRoom(base, room, { new_users_per_minute: 60, shards: 2, paused: true });
      for (let i = 0; i < PEOPLE; i++) await queuePerson(base, room, `FR-${String(9000 + i).padStart(6, "0")}`);
      const stats = await until("the coordinator to count everyone", async () => {
        const s = await roomConfig(base, room);
        return s.waiting === PEOPLE ? s : null;
      });
      ctx.room = room;
      return `${stats.waiting} waiting in ${room}`;
    });

    await checks.check("GET /admin without a session is the login form (401, strict CSP)", async () => {
      const res = await page.goto(`${base}/admin?room=${room}`);
      assertEqual(res.status(), 401, "status");
      const csp = res.headers()["content-security-policy"] ?? "";
      assert(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
      assert(await page.isVisible("form.login input[type=password]"), "no password field");
    });

    await checks.check("a wrong token is refused, the right one opens the dashboard", async () => {
      await page.fill("#token", "not-the-token");
      await Promise.all([page.waitForNavigation(), page.click("form.login button[type=submit]")]);
      assert((await page.textContent("form.login .error"))?.includes("not the admin token"), "no error message");
      await page.fill("#token", ADMIN_TOKEN);
      await Promise.all([page.waitForNavigation(), page.click("form.login button[type=submit]")]);
      assertEqual(new URL(page.url()).pathname, "/admin", "landed on");
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name.endsWith("antichambre_admin"));
      assert(session?.httpOnly && session.sameSite === "Strict", `session cookie: ${JSON.stringify(session)}`);
      assert(!session.value.includes(ADMIN_TOKEN), "the cookie holds the token");
      assertEqual(await page.textContent("#room-name"), room, "room shown");
      ctx.loggedIn = true;
    });

    await checks.check("shows the queue: waiting, paused state, per-shard load", async () => {
      need(ctx, "room", "loggedIn");
      await until("the waiting count", async () => number(await page.textContent('[data-field="waiting"]')) === PEOPLE);
      assertEqual(await page.textContent("#state-badge"), "paused", "state badge");
      const rows = await page.$$eval("#shard-rows tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
      assertEqual(rows.length, 2, "shard rows");
      assertEqual(
        rows.reduce((n, r) => n + Number(r[3]), 0),
        PEOPLE,
        "waiting summed over shards",
      );
      const drain = await page.textContent('[data-field="drain"]');
      assertEqual(drain, "not draining", "time to drain while paused");
      await screenshot(page, "dashboard-paused-queue");
      return `${PEOPLE} waiting, shards ${rows.map((r) => r[3]).join("+")}`;
    });

    await checks.check("Resume: the API shows the room admitting, and the page follows admissions", async () => {
      need(ctx, "loggedIn");
      await page.click("#pause-toggle");
      await until("the API to show the room resumed", async () => (await roomConfig(base, room)).config.paused === false);
      await until("the result text", async () => (await page.textContent("#pause-form .result"))?.includes("resumed"));
      // 60/min: one person a second. The page refreshes every 3 s.
      const seen = await until(
        "the page to show fewer people waiting",
        async () => {
          const w = number(await page.textContent('[data-field="waiting"]'));
          return w < PEOPLE - 1 ? w : null;
        },
        30_000,
      );
      assertEqual(await page.textContent("#state-badge"), "admitting", "state badge");
      await until(
        "an observed rate and a drain estimate",
        async () =>
          /\/min/.test(await page.textContent('[data-field="rate"]')) && /≈|empty/.test(await page.textContent('[data-field="drain"]')),
      );
      const api = await roomConfig(base, room);
      assert(api.admitted_total > 0, "nobody admitted according to the API");
      const lines = await page.$$eval('svg[data-chart="waiting"] polyline', (ps) => ps.length);
      assert(lines >= 1, "no sparkline drawn for the queue length");
      const label = await page.textContent('svg[data-chart="waiting"] title');
      assert(/now \d+/.test(label), `chart text equivalent: ${label}`);
      await screenshot(page, "dashboard-admitting");
      return `page shows ${seen} waiting; API: ${api.admitted_total} admitted, ${api.waiting} waiting`;
    });

    await checks.check("Pause then resume through the controls", async () => {
      need(ctx, "loggedIn");
      await until("the toggle to offer Pause", async () => (await page.textContent("#pause-toggle")) === "Pause admission");
      await page.click("#pause-toggle");
      await until("the API to show the room paused", async () => (await roomConfig(base, room)).config.paused === true);
      await until("the badge to say paused", async () => (await page.textContent("#state-badge")) === "paused");
      // People keep arriving while paused: the page counts them in.
      const before = number(await page.textContent('[data-field="waiting"]'));
      for (let i = 0; i < 3; i++) await queuePerson(base, room, `FR-${String(9100 + i).padStart(6, "0")}`);
      await until(
        "the page to count 3 more people waiting",
        async () => number(await page.textContent('[data-field="waiting"]')) === before + 3,
      );
      await screenshot(page, "dashboard-paused-again");
      await page.click("#pause-toggle");
      await until("the API to show the room resumed", async () => (await roomConfig(base, room)).config.paused === false);
    });

    await checks.check("change the admission limit", async () => {
      need(ctx, "loggedIn");
      await page.fill("#new_users_per_minute", "120");
      await page.click("#limits-form button[type=submit]");
      await until("the API to show 120/min", async () => (await roomConfig(base, room)).config.new_users_per_minute === 120);
      await until("the page to show the new limit", async () =>
        (await page.textContent('[data-field="rate-sub"]'))?.includes("limit 120/min"),
      );
      assert((await page.textContent("#limits-form .result")) === "Limits applied.", "no confirmation");
    });

    await checks.check("switch to adaptive outflow and back (pinning the rate)", async () => {
      need(ctx, "loggedIn");
      await until("the outflow control", async () => page.isVisible("#outflow-form"));
      await page.selectOption("#outflow_mode", "adaptive");
      await page.click("#outflow-form button[type=submit]");
      await until("the API to show adaptive outflow", async () => (await roomConfig(base, room)).config.outflow?.mode === "adaptive");
      await until("the page to show it", async () => (await page.textContent('[data-field="outflow"]'))?.startsWith("adaptive"));
      await screenshot(page, "dashboard-adaptive");
      await page.selectOption("#outflow_mode", "fixed");
      await page.click("#outflow-form button[type=submit]");
      await until("the API to show the rate pinned", async () => (await roomConfig(base, room)).config.outflow?.mode === "fixed");
    });

    await checks.check("an invalid change shows the API's problem text", async () => {
      need(ctx, "loggedIn");
      await page.evaluate(() => {
        const input = document.querySelector("#new_users_per_minute");
        input.removeAttribute("max");
        input.value = "5000000";
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
      await page.click("#limits-form button[type=submit]");
      const text = await until("a refusal", async () => {
        const t = await page.textContent("#limits-form .result");
        return t?.startsWith("Refused") ? t : null;
      });
      assert(text.includes("422") && text.includes("new_users_per_minute"), `refusal text: ${text}`);
      return text.slice(0, 120);
    });

    await checks.check("schedule an event: the API stores it and the page shows it (or shows the API's refusal)", async () => {
      need(ctx, "loggedIn");
      // datetime-local values in the browser's own time zone, an hour and two hours from now.
      const times = await page.evaluate(() => {
        const local = (ms) => {
          const d = new Date(Math.floor(ms / 1000) * 1000);
          const p = (n) => String(n).padStart(2, "0");
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        };
        const pre = Date.now() + 3_600_000;
        return {
          pre: local(pre),
          start: local(pre + 3_600_000),
          startIso: new Date(Math.floor((pre + 3_600_000) / 1000) * 1000).toISOString(),
        };
      });
      await page.fill("#prequeue_start", times.pre);
      await page.fill("#event_start", times.start);
      await page.selectOption("#event_method", "fifo");
      await page.click("#event-form button[type=submit]");
      const text = await until("a result", async () => (await page.textContent("#event-form .result")) || null);
      if (text.startsWith("Refused")) {
        assert(/^Refused: \d{3} /.test(text), `refusal text: ${text}`);
        return `refused by the API: ${text.slice(0, 120)}`;
      }
      const event = (await roomConfig(base, room)).config.event;
      assert(event && Date.parse(event.event_start) === Date.parse(times.startIso), `API event: ${JSON.stringify(event)}`);
      await until(
        "the page to show the event and its lottery commitment",
        async () =>
          (await page.textContent('[data-field="event"]'))?.includes("event_start") &&
          /commitment: [0-9a-f]{16,}/i.test(await page.textContent('[data-field="lottery"]')),
      );
      await screenshot(page, "dashboard-event-scheduled");
      return `event at ${event.event_start}`;
    });

    await checks.check("lottery reveal answers with the API's result or its problem text", async () => {
      need(ctx, "loggedIn");
      await page.click("#lottery-form button[type=submit]");
      const text = await until("a result", async () => (await page.textContent("#lottery-form .result")) || null);
      assert(/^(Revealed|Refused: \d{3} )/.test(text), `reveal result: ${text}`);
      return text.slice(0, 120);
    });

    await checks.check("a cookie-only change without the CSRF header is refused in the browser too", async () => {
      need(ctx, "loggedIn");
      const status = await page.evaluate(
        (r) =>
          fetch(`/v1/admin/rooms/${r}`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ paused: true }),
          }).then((res) => res.status),
        room,
      );
      assertEqual(status, 403, "status without the header");
      assertEqual((await roomConfig(base, room)).config.paused, false, "paused after the refused change");
    });

    await checks.check("no script errors, CSP violations or failed requests", async () => {
      const problems = watch.problems().filter((p) => !p.includes("/v1/admin/rooms/") || !p.includes("403"));
      // The 401 of the login page and the deliberate 422/403 are responses, not failures; anything else is.
      const unexpected = problems.filter((p) => !/status of (401|403|409|404|422)/.test(p));
      assert(unexpected.length === 0, unexpected.join("; "));
    });

    await checks.check("log out ends the session", async () => {
      need(ctx, "loggedIn");
      await Promise.all([page.waitForNavigation(), page.click('form[action="/admin/logout"] button')]);
      assert(await page.isVisible("form.login"), "no login form after logout");
      const res = await page.evaluate(() => fetch("/v1/admin/register").then((r) => r.status));
      assertEqual(res, 401, "admin API after logout");
      await screenshot(page, "dashboard-logged-out");
    });
  } finally {
    await context.close();
  }
}
