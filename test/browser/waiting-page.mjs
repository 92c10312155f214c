// The waiting page (GET /rooms/{room}) in headless Chromium, through a whole wait until admission:
// a room at 20 admissions a minute with six people already in line (real client SDK clients from
// Node), a person joining from the page's development form with the keyboard, the live status moving,
// the language switch and Accept-Language, the no-JavaScript page refreshing itself from the ticket
// cookie, and the admission with its app link and QR code, a wallet from Node scanning it and the
// person approving the wallet's confirmation code on the page. Screenshots of each state, in French and
// English, go to reports/screenshots/waiting-*.png.

import qrcode from "qrcode-generator";
import {
  assert,
  assertEqual,
  clientSdk,
  identityAssertion,
  need,
  putRoom,
  queuePerson,
  screenshot,
  textContrasts,
  watchPage,
} from "./harness.mjs";

export const title = "waiting page";

/** 20/min admits one person every 3 s: the browser's person, seventh in line, waits about 20 s. */
const RATE_PER_MINUTE = 20;
const AHEAD = 6;
const ADMISSION_TIMEOUT_MS = 60_000;
/** A phone-sized window: most people in line will be on one. */
const VIEWPORT = { width: 420, height: 900 };

async function contrastAtLeastAA(page) {
  const contrasts = await textContrasts(page);
  const low = contrasts.filter((p) => p.ratio < 4.5);
  assert(low.length === 0, `text below 4.5:1: ${JSON.stringify(low)}`);
  return `${contrasts.length} text elements, lowest ${contrasts[0].ratio.toFixed(1)}:1 (${contrasts[0].what})`;
}

const text = async (page, selector) => (await page.locator(selector).first().textContent())?.trim() ?? "";

export async function run({ base, browser, checks }) {
  const room = `web-${Math.random().toString(36).slice(2, 8)}`;
  const url = `${base}/rooms/${room}`;
  const ctx = {};
  const check = (name, fn) => checks.check(name, fn);

  await check("room created through the admin API, people in line before us (client SDK from Node)", async () => {
    await putRoom(base, room, { new_users_per_minute: RATE_PER_MINUTE, shards: 2 });
    const people = [];
    for (let i = 1; i <= AHEAD; i++) people.push(await queuePerson(base, room, `FR-0090${String(i).padStart(2, "0")}`));
    ctx.ahead = people;
    return `${room}: ${AHEAD} waiting, positions ${people.map((p) => p.joined.position ?? p.joined.status).join(",")}`;
  });

  const fr = await browser.newContext({ locale: "fr-FR", viewport: VIEWPORT });
  const page = await fr.newPage();
  const watch = watchPage(page);
  ctx.page = page;

  try {
    await check("unknown room: a 404 page in the visitor's language", async () => {
      // A page of its own: the 404 is expected, and the browser logs it as a console error.
      const other = await fr.newPage();
      try {
        const res = await other.goto(`${base}/rooms/no-such-room-here`);
        assertEqual(res.status(), 404, "status");
        assertEqual(await text(other, "h1"), "Salle d'attente introuvable", "heading");
      } finally {
        await other.close();
      }
    });

    await check("opens in French from Accept-Language, with the public status and the CSP", async () => {
      need(ctx, "ahead");
      const res = await page.goto(url);
      assertEqual(res.status(), 200, "status");
      assertEqual(await page.getAttribute("html", "lang"), "fr", "html lang");
      const csp = res.headers()["content-security-policy"] ?? "";
      assert(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
      assertEqual(await text(page, "h1"), `Salle d'attente « ${room} »`, "h1");
      // The count comes from the room snapshot: people who joined in the last second may not be in it yet.
      const waiting = await text(page, "#waiting-count");
      assert(/^(Personne n'attend|1 personne attend|\d+ personnes attendent)\.$/.test(waiting), `public status: ${waiting}`);
      assertEqual(await page.getAttribute("#status", "aria-live"), "polite", "live region");
      // The script ran: it shows the development form the server rendered hidden.
      await page.locator("#dev-join").waitFor({ state: "visible", timeout: 5_000 });
      const html = (await res.body()).length;
      const bundle = await fetch(`${base}/static/waiting-page.js`);
      const js = (await bundle.arrayBuffer()).byteLength;
      assert(bundle.headers.get("content-type")?.includes("javascript"), `bundle type: ${bundle.headers.get("content-type")}`);
      return { detail: `${waiting} HTML ${html} B, JS ${js} B`, data: { html_bytes: html, js_bytes: js } };
    });

    await check("keyboard: the language switch comes first, focus is visible, the form is labelled", async () => {
      await page.keyboard.press("Tab");
      const first = await page.evaluate(() => {
        const a = document.activeElement;
        return { id: a?.id, outline: a ? getComputedStyle(a).outlineStyle : "", width: a ? getComputedStyle(a).outlineWidth : "" };
      });
      assertEqual(first.id, "lang-en", "first focus");
      assert(first.outline !== "none" && first.width !== "0px", `focus outline: ${JSON.stringify(first)}`);
      const input = page.getByLabel("Identifiant de la personne");
      assertEqual(await input.getAttribute("id"), "person-id", "labelled input");
      await page.keyboard.press("Tab");
      assertEqual(await page.evaluate(() => document.activeElement?.id), "person-id", "second focus");
    });

    await check("text contrast is at least 4.5:1 (WCAG 2.1 AA)", () => contrastAtLeastAA(page));

    await check("joins as a demo person with the keyboard: position, wait range, progress, last update", async () => {
      need(ctx, "ahead");
      await page.locator("#person-id").fill("FR-000042");
      await page.locator("#person-id").press("Enter");
      await page.waitForFunction(() => document.getElementById("status")?.dataset.status === "waiting", null, { timeout: 15_000 });
      const position = Number(await text(page, "#position"));
      assert(position >= AHEAD - 1 && position <= AHEAD + 1, `position ${position}, expected about ${AHEAD + 1}`);
      const wait = await text(page, "#wait");
      assert(/^(entre|moins)/.test(wait), `wait range: ${wait}`);
      const bar = page.getByLabel("Progression depuis votre arrivée");
      assertEqual(await bar.evaluate((e) => e.tagName), "PROGRESS", "labelled progress bar");
      assertEqual(await bar.getAttribute("max"), String(position), "progress max (position at join)");
      assertEqual(await page.locator("#progress-bar").evaluate((e) => e.getAttribute("value")), "0", "progress value");
      assert((await page.getAttribute("#updated-time", "datetime"))?.length > 0, "last update time");
      // Focus follows the visitor from the form (now hidden) to the new status.
      assertEqual(await page.evaluate(() => document.activeElement?.id), "status-heading", "focus after join");
      assert(await page.locator("#join").isHidden(), "the join section is hidden while holding a place");
      ctx.position = position;
      return `position ${position}, wait "${wait}"`;
    });

    await check("keeps the device key non-extractable in IndexedDB and the ticket in a room-scoped cookie", async () => {
      need(ctx, "position");
      const key = await page.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open("antichambre");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const get = open.result.transaction("keys").objectStore("keys").get("device-key");
              get.onsuccess = () => {
                const pair = get.result;
                resolve(
                  pair
                    ? { type: pair.privateKey.type, extractable: pair.privateKey.extractable, alg: pair.privateKey.algorithm.namedCurve }
                    : null,
                );
              };
            };
          }),
      );
      assertEqual(key, { type: "private", extractable: false, alg: "P-256" }, "stored private key");
      const cookies = await fr.cookies();
      const ticket = cookies.find((c) => c.name === "antichambre_ticket");
      assert(ticket, `no ticket cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
      assertEqual(
        { path: ticket.path, sameSite: ticket.sameSite, httpOnly: ticket.httpOnly },
        { path: `/rooms/${room}`, sameSite: "Strict", httpOnly: false },
        "cookie attributes",
      );
      assert(ticket.expires > Date.now() / 1000 + 3600, "cookie lives as long as the ticket");
      ctx.cookies = cookies;
    });

    await check("screenshot: waiting, French", async () => {
      need(ctx, "position");
      return screenshot(page, "waiting-fr");
    });

    await check("the language switch reloads the page in English, still holding the place", async () => {
      need(ctx, "position");
      await page.getByRole("link", { name: "English" }).click();
      await page.waitForURL(/\?lang=en$/);
      assertEqual(await page.getAttribute("html", "lang"), "en", "html lang");
      assertEqual(await text(page, "h1"), `Waiting room “${room}”`, "h1");
      assertEqual(await text(page, "#status-heading"), "Your place", "status heading");
      const position = Number(await text(page, "#position"));
      assert(position >= 1 && position <= ctx.position, `position ${position} after ${ctx.position}`);
      await screenshot(page, "waiting-en");
      return `position ${position}`;
    });

    await check(
      "without JavaScript: the cookie ticket shows the position (English by Accept-Language) and the page refreshes itself",
      async () => {
        need(ctx, "cookies");
        const nojs = await browser.newContext({ javaScriptEnabled: false, locale: "en-GB", viewport: VIEWPORT });
        try {
          await nojs.addCookies(ctx.cookies);
          const p = await nojs.newPage();
          const res = await p.goto(url);
          const html = await res.text();
          const refresh = /<noscript><meta http-equiv="refresh" content="(\d+)"><\/noscript>/.exec(html);
          assert(refresh, "no meta refresh in the head");
          const seconds = Number(refresh[1]);
          assert(seconds >= 2 && seconds <= 60, `refresh after ${seconds} s`);
          assertEqual(await p.getAttribute("html", "lang"), "en", "html lang from Accept-Language");
          const position = Number(await text(p, "#position"));
          assert(position >= 1, `position: ${await text(p, "#status")}`);
          assert(await p.locator("#noscript-refresh").isVisible(), "the no-JavaScript notice is shown");
          await screenshot(p, "waiting-nojs-en");
          // Chromium honours the refresh: the page loads again by itself, with the status read anew.
          const reloaded = p.waitForResponse((r) => r.url() === url && r.request().isNavigationRequest(), {
            timeout: (seconds + 5) * 1000,
          });
          const again = await reloaded;
          assertEqual(again.status(), 200, "refreshed page status");
          return `position ${position}, refreshed after ${seconds} s`;
        } finally {
          await nojs.close();
        }
      },
    );

    await check("joins from the identity app's link (#identity_assertion=…), which leaves no trace in the address", async () => {
      need(ctx, "ahead");
      const app = await browser.newContext({ locale: "en-GB", viewport: VIEWPORT });
      try {
        const p = await app.newPage();
        const assertion = await identityAssertion(base, "FR-000043");
        await p.goto(`${url}#identity_assertion=${assertion}`);
        await p.waitForFunction(() => ["waiting", "admitted"].includes(document.getElementById("status")?.dataset.status ?? ""), null, {
          timeout: 15_000,
        });
        assertEqual(await p.evaluate(() => location.href), url, "address after join");
        assert(await p.locator("#join").isHidden(), "join section hidden");
        const cookie = (await app.cookies()).find((c) => c.name === "antichambre_ticket");
        assert(cookie, "ticket cookie");
        return `${await text(p, "#status-heading")} ${await text(p, "#position")}`.trim();
      } finally {
        await app.close();
      }
    });

    await check("while waiting, position, progress and last update change in the live region", async () => {
      need(ctx, "position");
      await page.evaluate(() => {
        window.__liveChanges = 0;
        new MutationObserver(() => window.__liveChanges++).observe(document.getElementById("status"), {
          childList: true,
          subtree: true,
          characterData: true,
        });
      });
      const before = { position: Number(await text(page, "#position")), updated: await page.getAttribute("#updated-time", "datetime") };
      await page.waitForFunction(
        (p) => {
          const now = Number(document.getElementById("position")?.textContent);
          return document.getElementById("status")?.dataset.status === "admitted" || (now > 0 && now < p);
        },
        before.position,
        { timeout: 20_000 },
      );
      const after = { position: Number(await text(page, "#position")), updated: await page.getAttribute("#updated-time", "datetime") };
      assert(after.updated !== before.updated, `last update did not change (${before.updated})`);
      assert(await page.evaluate(() => window.__liveChanges > 0), "the live region did not change");
      const progress = await page.locator("#progress-bar").evaluate((e) => ({ value: e.value, max: e.max }));
      assert(progress.value > 0, `progress ${JSON.stringify(progress)}`);
      return `position ${before.position} → ${after.position || "admitted"}, progress ${progress.value}/${progress.max}`;
    });

    await check("admitted: the heading, the app link, the QR code of the handoff offer by reference, the approval form", async () => {
      need(ctx, "position");
      await page.waitForFunction(() => document.getElementById("status")?.dataset.status === "admitted", null, {
        timeout: ADMISSION_TIMEOUT_MS,
      });
      assertEqual(await text(page, "#status-heading"), "It is your turn!", "heading");
      assert((await page.title()).startsWith("It is your turn!"), `title: ${await page.title()}`);
      const href = await page.getAttribute("#open-app", "href");
      assert(href?.startsWith("openid-credential-offer://?credential_offer_uri="), `app link: ${href}`);
      const offerUri = new URLSearchParams(href.slice(href.indexOf("?") + 1)).get("credential_offer_uri");
      assert(offerUri.startsWith(`${base}/offers/`), `offer by reference on this service: ${offerUri}`);
      // The approval form is shown by the script (approving is signed by the browser's device key).
      await page.locator("#approve-wallet").waitFor({ state: "visible", timeout: 5_000 });
      assertEqual(await text(page, "label[for=confirmation-code]"), "Enter the code your wallet shows", "form label");
      const svg = page.locator("svg#offer-qr");
      assertEqual(await svg.getAttribute("role"), "img", "QR role");
      assertEqual(await text(page, "#offer-qr-title"), "QR code of the driving licence offer", "QR accessible name");
      const progress = await page.locator("#progress-bar").evaluate((e) => ({ value: e.value, max: e.max }));
      assertEqual(progress.value, progress.max, "progress at the end");
      ctx.href = href;
      ctx.qrPath = await page.locator("svg#offer-qr path").getAttribute("d");
      await contrastAtLeastAA(page);
      await screenshot(page, "admitted-en");
      return `offer link ${href.length} characters`;
    });

    await check("the QR code encodes exactly the app link", async () => {
      need(ctx, "href", "qrPath");
      const qr = qrcode(0, "L");
      qr.addData(ctx.href, "Byte");
      qr.make();
      const n = qr.getModuleCount();
      // Read the SVG back into modules: each row is "M x y.5 h len (m dx 0 h len)*".
      const drawn = Array.from({ length: n }, () => new Array(n).fill(false));
      let x = 0;
      let y = 0;
      for (const [, cmd, a, b] of ctx.qrPath.matchAll(/([Mmh])(-?\d+)(?:[ ,](-?[\d.]+))?/g)) {
        if (cmd === "M") [x, y] = [Number(a) - 4, Math.floor(Number(b)) - 4];
        else if (cmd === "m") x += Number(a);
        else {
          for (let i = 0; i < Number(a); i++) drawn[y][x + i] = true;
          x += Number(a);
        }
      }
      let differences = 0;
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (drawn[r][c] !== qr.isDark(r, c)) differences++;
      assertEqual(differences, 0, "modules that differ");
      return `${n}×${n} modules`;
    });

    await check(
      "a wallet on another device scans the QR code, shows a code, the person approves it on the page, the wallet gets its token",
      async () => {
        need(ctx, "href");
        const { AntichambreClient, DeviceKey } = await clientSdk();
        // A different key from the browser's: the wallet app on another phone.
        const wallet = new AntichambreClient({ baseUrl: base, room, device: await DeviceKey.create() });
        const offer = await wallet.resolveCredentialOffer(ctx.href);
        assertEqual(offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].tx_code, undefined, "no tx_code in the offer");
        // A photo of the same QR code scanned by a second phone: the reference was used.
        const photo = new AntichambreClient({ baseUrl: base, room, device: await DeviceKey.create() });
        const refused = await photo.resolveCredentialOffer(ctx.href).catch((e) => e);
        assertEqual(refused?.status, 404, "the QR code's offer a second time");
        let shown;
        const codeShown = new Promise((resolve) => (shown = resolve));
        const redeemed = wallet.token(offer, { onConfirmationCode: shown, signal: AbortSignal.timeout(60_000) });
        const code = await Promise.race([codeShown, redeemed.then(() => null)]);
        assert(typeof code === "string" && /^[2-9A-HJKMNP-Z]{6}$/.test(code), `confirmation code on the wallet: ${code}`);
        // A wrong code first, typed with the keyboard, then the right one (in lower case, as people type).
        const input = page.getByLabel("Enter the code your wallet shows");
        const wrong = `${code[0] === "A" ? "B" : "A"}${code.slice(1)}`;
        await input.fill(wrong);
        await input.press("Enter");
        await page.waitForFunction(() => /not approved/.test(document.getElementById("approve-result")?.textContent ?? ""), null, {
          timeout: 10_000,
        });
        const wrongText = await text(page, "#approve-result");
        // The refusal is a 400, which Chromium logs as a console error: the last check expects exactly one.
        ctx.refusedApprovals = 1;
        assert(/4 attempts left/.test(wrongText), `wrong code answer: ${wrongText}`);
        await input.fill(code.toLowerCase());
        await page.getByRole("button", { name: "Approve this wallet" }).click();
        await page.waitForFunction(() => /approved:/.test(document.getElementById("approve-result")?.textContent ?? ""), null, {
          timeout: 10_000,
        });
        const session = await redeemed;
        assert(typeof session.accessToken === "string" && session.accessToken.length > 0, "access token for the wallet");
        await screenshot(page, "approved-en");
        return { detail: `code ${code} approved on the page; wrong code: "${wrongText}"`, data: { offer_link_chars: ctx.href.length } };
      },
    );

    await check("admitted page in French from the server (cookie): a fresh QR code and the approval form, no polling", async () => {
      need(ctx, "href");
      let polls = 0;
      page.on("request", (r) => {
        if (r.url().includes("/tickets/current")) polls++;
      });
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("?lang=fr")),
        page.getByRole("link", { name: "Français" }).click(),
      ]);
      await page.waitForURL(/\?lang=fr$/);
      const html = (await response.body()).length;
      assertEqual(await text(page, "#status-heading"), "C'est votre tour !", "heading");
      assert(await page.locator("svg#offer-qr").isVisible(), "QR code visible");
      assertEqual(await text(page, "#open-app"), "Ouvrir dans mon application portefeuille", "app link text");
      // The server rendered a fresh offer reference: the script polls only when it nears expiry.
      const href = await page.getAttribute("#open-app", "href");
      assert(href?.startsWith("openid-credential-offer://?credential_offer_uri=") && href !== ctx.href, `a fresh offer link: ${href}`);
      await page.locator("#approve-wallet").waitFor({ state: "visible", timeout: 5_000 });
      assertEqual(await text(page, "label[for=confirmation-code]"), "Saisissez le code affiché par votre portefeuille", "form label");
      await page.waitForTimeout(2_500);
      assertEqual(polls, 0, "polls after the admitted page loaded");
      await screenshot(page, "admitted-fr");
      return { detail: `HTML with the QR code ${html} B`, data: { admitted_html_bytes: html } };
    });

    await check("no script error, console error or CSP violation on the way", async () => {
      const refusal = "console error: Failed to load resource: the server responded with a status of 400 (Bad Request)";
      const all = watch.problems();
      assertEqual(
        all.filter((p) => p === refusal).length,
        ctx.refusedApprovals ?? 0,
        "400s logged (the wrong approval code typed on purpose)",
      );
      const problems = all.filter((p) => p !== refusal);
      assert(problems.length === 0, problems.join(" | "));
    });
  } finally {
    await fr.close();
  }
}
