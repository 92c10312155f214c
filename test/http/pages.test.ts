import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { START_COOKIE, TICKET_COOKIE } from "../../src/pages/cookies";
import { formatWaitRange } from "../../src/pages/i18n";
import { waitRange } from "../../src/pages/wait-range";
import { joinMany } from "../helpers/queue";
import { call, createRoom, join, ORIGIN, poll, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

/**
 * The waiting page as the server renders it (`GET /rooms/{room}`): what a browser without JavaScript
 * sees, and what the script starts from. The browser side is driven in real Chromium by
 * test/browser/run.mjs.
 */

async function page(path: string, init: { lang?: string; cookies?: Record<string, string> } = {}) {
  const headers: Record<string, string> = {};
  if (init.lang !== undefined) headers["accept-language"] = init.lang;
  if (init.cookies)
    headers.cookie = Object.entries(init.cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
  const res = await call(path, { headers });
  return { res, text: await res.text() };
}

function refreshOf(text: string): number | null {
  const m = /<noscript><meta http-equiv="refresh" content="(\d+)"><\/noscript>/.exec(text);
  return m ? Number(m[1]) : null;
}

/** The text content of the element with this id (tags stripped, entities of the escaper decoded). */
function textOf(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) return "";
  const open = html.indexOf(">", start) + 1;
  const tag = /<(\w+)[^<]*$/.exec(html.slice(0, start))![1]!;
  const close = html.indexOf(`</${tag}>`, open);
  return html
    .slice(open, close)
    .replace(/<[^>]+>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .trim();
}

function decodeAttr(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

describe("the waiting page: language", () => {
  it("follows Accept-Language, by q-value, French by default, and ?lang= overrides it", async () => {
    const cases: [string | undefined, string][] = [
      ["en-GB,en;q=0.9", "en"],
      ["fr-FR,fr;q=0.9,en;q=0.8", "fr"],
      ["de-DE, en;q=0.5, fr;q=0.4", "en"],
      ["de-DE", "fr"],
      ["en;q=0, fr;q=0.1", "fr"],
      [undefined, "fr"],
    ];
    for (const [header, lang] of cases) {
      const { res, text } = await page("/rooms/permis", header === undefined ? {} : { lang: header });
      expect(res.status, header).toBe(200);
      expect(text, header).toContain(`<html lang="${lang}"`);
    }
    const en = await page("/rooms/permis?lang=en", { lang: "fr-FR" });
    expect(en.text).toContain('<html lang="en"');
    expect(en.text).toContain("Waiting room “permis”");
    const fr = await page("/rooms/permis?lang=fr", { lang: "en" });
    expect(fr.text).toContain("Salle d&#39;attente « permis »");
  });

  it("offers a visible switch to the other language, marked with its language", async () => {
    const fr = await page("/rooms/permis", { lang: "fr" });
    expect(fr.text).toMatch(/<nav aria-label="Langue"><ul><li><a href="\?lang=en" hreflang="en" lang="en" id="lang-en">English<\/a>/);
    const en = await page("/rooms/permis", { lang: "en" });
    expect(en.text).toMatch(/<a href="\?lang=fr" hreflang="fr" lang="fr" id="lang-fr">Français<\/a>/);
    expect(en.res.headers.get("vary")).toMatch(/accept-language/);
  });
});

describe("the waiting page: security headers and escaping", () => {
  it("sets a strict CSP: scripts from this origin only (no inline script), the inline style by nonce", async () => {
    const { res, text } = await page("/rooms/permis");
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /style-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)![1]!;
    expect(nonce.length).toBeGreaterThanOrEqual(22);
    expect(text).toContain(`<style nonce="${nonce}">`);
    // Every script element loads the bundle; none has a body.
    const scripts = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    expect(scripts[0]![0]).toContain('src="/static/waiting-page.js"');
    expect(scripts[0]![1]).toBe("");
    expect(text).not.toMatch(/\son[a-z]+=/i);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    // A fresh nonce per response.
    const again = await page("/rooms/permis");
    expect(again.res.headers.get("content-security-policy")).not.toBe(csp);
  });

  it("answers an unknown room with a 404 HTML page that escapes the name it was asked for", async () => {
    const missing = await page("/rooms/no-such-room", { lang: "en" });
    expect(missing.res.status).toBe(404);
    expect(missing.res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(missing.res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(textOf(missing.text, "not-found")).toBe("There is no waiting room named “no-such-room”. Check the address.");

    const hostile = await page(`/rooms/${encodeURIComponent('"><script>alert(1)</script><img src=x onerror=alert(2)>')}`, { lang: "fr" });
    expect(hostile.res.status).toBe(404);
    expect(hostile.text).not.toContain("<script>alert");
    expect(hostile.text).not.toContain("<img src=x");
    expect(hostile.text).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect(hostile.text).toContain("Salle d&#39;attente introuvable");
    // The JSON API keeps its problem documents.
    const api = await call("/v1/rooms/no-such-room");
    expect(api.status).toBe(404);
    expect(api.headers.get("content-type")).toBe("application/problem+json");
  });

  it("escapes what it interpolates into attributes too (the credential offer link)", async () => {
    const { html, raw } = await import("../../src/pages/html");
    const evil = `x" onclick="alert(1)`;
    expect(html`<a href="${evil}">${"<b>"}</a>`.value).toBe('<a href="x&quot; onclick=&quot;alert(1)">&lt;b&gt;</a>');
    expect(html`${raw("<b>ok</b>")}${[1, "<", null, false]}`.value).toBe("<b>ok</b>1&lt;");
  });
});

describe("the waiting page without a ticket", () => {
  it("shows the room's public status and refreshes itself every 30 s without JavaScript", async () => {
    const room = await createRoom({ new_users_per_minute: 6, shards: 1 });
    await joinMany(room, 3);
    await tick(room);
    const { res, text } = await page(`/rooms/${room}`, { lang: "en" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(textOf(text, "waiting-count")).toBe("3 people are waiting.");
    expect(textOf(text, "room-state")).toBe("people are queueing");
    // A newcomer would be 4th at about 6/min: under a minute, shown as a range rounded outwards.
    expect(textOf(text, "wait")).toMatch(/^less than (a minute|2 minutes)$/);
    expect(refreshOf(text)).toBe(30);
    expect(text).toContain('aria-live="polite"');
    expect(text).toMatch(/<time id="updated-time" datetime="2026-12-01T/);
  });

  it("offers the demo-person form in development only", async () => {
    const dev = await page("/rooms/permis", { lang: "en" });
    expect(dev.text).toContain('<form id="dev-join" hidden>');
    expect(dev.text).toMatch(
      /<label for="person-id">Person identifier<\/label>\s*<input id="person-id" name="person_id" value="FR-0\d{5}"/,
    );
    expect(dev.text).toContain('data-development="true"');

    const production = { ...env, ENVIRONMENT: "production" };
    const res = await createApp().fetch(
      new Request(`${ORIGIN}/rooms/permis`, { headers: { "accept-language": "en" } }),
      production,
      createExecutionContext(),
    );
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain("dev-join");
    expect(text).not.toContain("person-id");
    expect(text).toContain('data-development="false"');
    expect(textOf(text, "join-from-app")).toBe("To take your place, open this page from the France Identité app.");
  });
});

describe("the waiting page with the ticket cookie (no JavaScript)", () => {
  it("renders the position, wait range, progress and a refresh after poll_after_seconds, as the poll does", async () => {
    const room = await createRoom({ new_users_per_minute: 6, shards: 1 });
    const joined = await joinMany(room, 4);
    await tick(room);
    const last = joined[3]!;
    const polled = await poll(room, last.ticket);
    expect(polled.body).toMatchObject({ status: "waiting", position: 4 });

    const { res, text } = await page(`/rooms/${room}`, { lang: "en", cookies: { [TICKET_COOKIE]: last.ticket, [START_COOKIE]: "6" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(textOf(text, "position")).toBe("4");
    expect(textOf(text, "ahead")).toBe("3 people ahead of you.");
    // The range around the poll's own estimate (about 4 ÷ 0.1/s), from 0.75× to 1.5×, rounded outwards.
    const expected = formatWaitRange("en", waitRange(polled.body.estimated_wait_seconds));
    expect(expected).toMatch(/^less than (a minute|2 minutes)$/);
    expect(textOf(text, "wait")).toBe(expected);
    expect(text).toMatch(/<progress id="progress-bar" max="6" value="2">/);
    expect(textOf(text, "progress-text")).toBe("moved up 2 of 6 places (33 %)");
    expect(text).toMatch(/<label for="progress-bar">Progress since you joined<\/label>/);
    const refresh = refreshOf(text)!;
    expect(refresh).toBeGreaterThanOrEqual(2);
    expect(refresh).toBeLessThanOrEqual(60);
    expect(textOf(text, "noscript-refresh")).toBe(`JavaScript is off: this page updates itself every ${refresh} seconds.`);
    // Holding a place, the join section is hidden.
    expect(text).toMatch(/<section id="join" class="card" aria-labelledby="join-heading" hidden>/);

    const fr = await page(`/rooms/${room}`, { lang: "fr", cookies: { [TICKET_COOKIE]: last.ticket } });
    expect(textOf(fr.text, "position-line")).toBe("Vous êtes à la place 4 de la file.");
    expect(textOf(fr.text, "wait")).toBe(formatWaitRange("fr", waitRange(polled.body.estimated_wait_seconds)));
  });

  it("says the wait is unknown while the room is paused", async () => {
    const room = await createRoom({ new_users_per_minute: 6, shards: 1, paused: true });
    const [j] = await joinMany(room, 1);
    await tick(room);
    const { text } = await page(`/rooms/${room}?lang=en`, { cookies: { [TICKET_COOKIE]: j!.ticket } });
    expect(textOf(text, "wait")).toBe("unknown for now (admissions are paused)");
    expect(textOf(text, "position")).toBe("1");
  });

  it("once admitted, shows the app link and the QR code of the credential offer, and stops refreshing", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const [j] = await joinMany(room, 1);
    await tick(room);
    expect((await poll(room, j!.ticket)).body.status).toBe("admitted");

    const { res, text } = await page(`/rooms/${room}`, { lang: "en", cookies: { [TICKET_COOKIE]: j!.ticket, [START_COOKIE]: "1" } });
    expect(res.status).toBe(200);
    expect(textOf(text, "status-heading")).toBe("It is your turn!");
    expect(text).toContain('class="card admitted"');
    // The handoff offer (a wallet is another key than this browser's), by reference: a short single-use
    // link to this service (src/issuance/handoff-offer.ts), whose wallet the page then approves.
    const href = decodeAttr(/<a class="button" id="open-app" href="([^"]+)">/.exec(text)![1]!);
    expect(href.startsWith("openid-credential-offer://?credential_offer_uri=")).toBe(true);
    const offerRes = await call(new URLSearchParams(href.slice(href.indexOf("?") + 1)).get("credential_offer_uri")!.slice(ORIGIN.length));
    expect(offerRes.status).toBe(200);
    const offer = (await offerRes.json()) as Record<string, any>;
    expect(offer.credential_issuer).toBe(ORIGIN);
    expect(typeof offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]).toBe("string");
    expect(offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].tx_code).toBeUndefined();
    // The approval form: labelled, hidden until the script shows it (approving needs the browser's
    // device key), and a no-JavaScript note saying so.
    expect(text).toMatch(/<form id="approve-wallet" class="approve" hidden>/);
    expect(text).toContain('<label for="confirmation-code">Enter the code your wallet shows</label>');
    expect(text).toMatch(/<input id="confirmation-code" name="confirmation_code" required[^>]*aria-describedby="confirmation-hint">/);
    expect(text).toContain("Approving your wallet needs JavaScript on this page.");
    expect(text).toMatch(/<figure class="qr-box" id="offer-figure" data-expires-at="[^"]+">/);
    // The QR code is inline SVG with an accessible name.
    const svg = /<svg [^>]*id="offer-qr"[^>]*>[\s\S]*?<\/svg>/.exec(text)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="offer-qr-title">QR code of the driving licence offer</title>');
    expect(svg).toMatch(/<path stroke="#000" stroke-width="1" d="M\d+ \d+\.5h\d+/);
    expect(text).toMatch(/<progress id="progress-bar" max="1" value="1">/);
    expect(refreshOf(text)).toBeNull();
  });

  it("reads an expired admission as expired, forgets the cookie and offers to join again", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1, admission_ttl_seconds: 10 });
    const [j] = await joinMany(room, 1);
    await tick(room);
    await tick(room, 11_000);
    const { res, text } = await page(`/rooms/${room}?lang=en`, { cookies: { [TICKET_COOKIE]: j!.ticket } });
    expect(res.status).toBe(200);
    expect(textOf(text, "status-heading")).toBe("Your admission has expired");
    const cleared = res.headers.get("set-cookie") ?? "";
    expect(cleared).toContain(`${TICKET_COOKIE}=; Path=/rooms/${room}; Max-Age=0; SameSite=Strict`);
    expect(cleared).toContain(`${START_COOKIE}=; Path=/rooms/${room}; Max-Age=0; SameSite=Strict`);
    expect(text).toMatch(/<section id="join" class="card" aria-labelledby="join-heading">/);
  });

  it("ignores a forged ticket or another room's ticket: public view, cookie cleared", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const other = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const theirs = await join(other);
    for (const ticket of ["not-a-ticket", theirs.ticket, `${theirs.ticket.slice(0, -4)}AAAA`]) {
      const { res, text } = await page(`/rooms/${room}?lang=en`, { cookies: { [TICKET_COOKIE]: ticket } });
      expect(res.status).toBe(200);
      expect(textOf(text, "status-heading")).toBe("The line right now");
      expect(res.headers.get("set-cookie") ?? "").toContain(`${TICKET_COOKIE}=; Path=/rooms/${room}; Max-Age=0; SameSite=Strict`);
    }
  });
});

describe("the waiting page's browser bundle", () => {
  it("is served from Workers Static Assets, small", async () => {
    const res = await env.ASSETS!.fetch("http://assets.local/static/waiting-page.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(100 * 1024);
  });

  it("the page itself stays a few KiB while waiting", async () => {
    const { text } = await page("/rooms/permis");
    expect(new TextEncoder().encode(text).byteLength).toBeLessThan(12 * 1024);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
