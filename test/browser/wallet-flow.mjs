// A standard wallet's authorization code flow once more, with the person's side in real Chromium: the
// unmodified wallet library (tools/lab/wallet.mjs) does PAR, token and credential requests from Node;
// Chromium opens the authorization URL as the wallet would hand it to the system browser, waits on the
// waiting page until admitted, signs in at the identity provider (the real OpenID Connect provider the
// runner started, test/support/oidc-provider.mjs) and is sent back to the wallet's redirect URI, a
// loopback one (RFC 8252 §7.3) that this process answers as the wallet app would. Screenshots:
// reports/screenshots/authorization-*.png.

import { createServer } from "node:http";
import { MDOC_CONFIGURATION, SD_JWT_CONFIGURATION, Wallet } from "../../tools/lab/wallet.mjs";
import { ACCOUNT_FIELD } from "../support/oidc-provider.mjs";
import { verifyMdoc, verifySdJwtVc } from "../support/verify-credentials.mjs";
import { assert, assertEqual, putRoom, screenshot, watchPage } from "./harness.mjs";

export const title = "wallet authorization flow";

/** The room the flow's browsers wait in: run.mjs starts the service with AUTHORIZATION_ROOM set to it. */
export const WALLET_ROOM = "web-wallets";

const STEP_TIMEOUT_MS = 60_000;
/** A person of the synthetic register whose licence is valid (FR-000042's is: the waiting page's test uses it too, in another room). */
const PERSON = "FR-000042";

/** A loopback listener standing in for the wallet app's redirect URI: records each URL it is opened with. */
async function walletLoopback() {
  const calls = [];
  const server = createServer((req, res) => {
    if (req.url === "/favicon.ico") return res.writeHead(204).end();
    calls.push(`${redirectUri}${(req.url ?? "").replace(/^\/callback/, "")}`);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end("Retour dans le portefeuille. / Back in the wallet.");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const redirectUri = `http://127.0.0.1:${server.address().port}/callback`;
  return {
    redirectUri,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

export async function run({ base, browser, checks, idp }) {
  const check = (name, fn) => checks.check(name, fn);
  if (!idp) {
    await check("identity provider started by the runner", async () => {
      throw new Error("test/browser/run.mjs started no identity provider");
    });
    return;
  }
  const room = WALLET_ROOM;
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  // The wallet app's redirect URI: a loopback one (RFC 8252 §7.3, as native apps do), answered here.
  const back = await walletLoopback();
  try {
    await check(
      "wallet library (Node) + Chromium: PAR → waiting page → identity provider → back to the wallet → token → mdoc + SD-JWT VC verified",
      async () => {
        await putRoom(base, room, { paused: true, new_users_per_minute: 600, shards: 2, admission_ttl_seconds: 300 });
        const wallet = new Wallet({ issuer: base, redirectUri: back.redirectUri });
        /** @type {string[]} */
        const shots = [];
        const authorized = await wallet.authorize({
          configurations: [MDOC_CONFIGURATION, SD_JWT_CONFIGURATION],
          step: async (url, { redirectUri }) => {
            const first = await page.goto(url);
            assert(first && first.status() < 400, `authorization URL: ${first?.status()} at ${page.url()}`);
            assert(page.url().startsWith(base), `not on the service's page: ${page.url()}`);
            shots.push(await screenshot(page, "authorization-waiting"));
            await putRoom(base, room, { paused: false });
            // As a person would rather than wait for the page's next refresh: "Continuer" (a plain link
            // that reloads the page), once a second until admitted and on to the identity provider.
            const atProvider = (/** @type {string} */ u) => u.startsWith(`${idp.issuer}/interaction/`);
            for (let i = 0; i < 30 && !atProvider(page.url()); i++) {
              await page.locator("#continue").click();
              await page.waitForLoadState("load");
              if (!atProvider(page.url())) await new Promise((r) => setTimeout(r, 1_000));
            }
            await page.waitForURL((u) => atProvider(u.href), { timeout: STEP_TIMEOUT_MS });
            shots.push(await screenshot(page, "authorization-identity"));
            await page.locator(`#${ACCOUNT_FIELD}`).fill(PERSON);
            await page.locator(`#${ACCOUNT_FIELD}`).press("Enter");
            await page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: STEP_TIMEOUT_MS });
            shots.push(await screenshot(page, "authorization-back-in-wallet"));
            assert(back.calls.length === 1, `the wallet's redirect URI was called ${back.calls.length} times`);
            return back.calls[0];
          },
        });
        assertEqual(authorized.response.iss, base, "iss");
        const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
        const mdoc = await wallet.credential(MDOC_CONFIGURATION);
        await verifyMdoc(mdoc.credential, mdoc.key.publicJwk);
        const sdJwt = await wallet.credential(SD_JWT_CONFIGURATION);
        await verifySdJwtVc(sdJwt.credential, { issuer: base, jwks, holderJwk: sdJwt.key.publicJwk });
        const problems = watch.problems();
        assert(problems.length === 0, `the pages reported: ${problems.join("; ")}`);
        return `${PERSON}: mdoc and SD-JWT VC verified; ${shots.length} screenshots`;
      },
    );
  } finally {
    await context.close();
    await back.close();
  }
}
