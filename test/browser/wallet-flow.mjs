// A standard wallet's authorization code flow once more, with the person's side in real Chromium: the
// unmodified wallet library (tools/lab/wallet.mjs) does PAR, token and credential requests from Node;
// Chromium opens the authorization URL as the wallet would hand it to the system browser, waits on the
// waiting page until admitted, signs in at the identity provider (the real OpenID Connect provider the
// runner started, test/support/oidc-provider.mjs) and is sent back to the wallet's redirect URI, which
// the test intercepts (no network: the wallet "app" is this process). Screenshots:
// reports/screenshots/authorization-*.png.

import { devWalletProvider, MDOC_CONFIGURATION, SD_JWT_CONFIGURATION, Wallet } from "../../tools/lab/wallet.mjs";
import { ACCOUNT_FIELD } from "../support/oidc-provider.mjs";
import { verifyMdoc, verifySdJwtVc } from "../support/verify-credentials.mjs";
import { assert, assertEqual, putRoom, REPO, screenshot, watchPage } from "./harness.mjs";

export const title = "wallet authorization flow";

/** The room the flow's browsers wait in: run.mjs starts the service with AUTHORIZATION_ROOM set to it. */
export const WALLET_ROOM = "web-wallets";

const STEP_TIMEOUT_MS = 60_000;
/** A person of the synthetic register whose licence is valid (FR-000042's is: the waiting page's test uses it too, in another room). */
const PERSON = "FR-000042";

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
  try {
    await check(
      "wallet library (Node) + Chromium: PAR → waiting page → identity provider → back to the wallet → token → mdoc + SD-JWT VC verified",
      async () => {
        await putRoom(base, room, { paused: true, new_users_per_minute: 600, shards: 2, admission_ttl_seconds: 300 });
        const wallet = new Wallet({ issuer: base, provider: await devWalletProvider(REPO) });
        /** @type {string[]} */
        const shots = [];
        const authorized = await wallet.authorize({
          configurations: [MDOC_CONFIGURATION, SD_JWT_CONFIGURATION],
          step: async (url, { redirectUri }) => {
            // The wallet's redirect URI is the wallet app, not a web server: answered here.
            let redirectedTo = null;
            await context.route(`${redirectUri}**`, (route) => {
              redirectedTo = route.request().url();
              return route.fulfill({ status: 200, contentType: "text/plain", body: "back in the wallet" });
            });
            const first = await page.goto(url);
            assert(first && first.status() < 400, `authorization URL: ${first?.status()} at ${page.url()}`);
            assert(page.url().startsWith(base), `not on the service's page: ${page.url()}`);
            shots.push(await screenshot(page, "authorization-waiting"));
            await putRoom(base, room, { paused: false });
            await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`), { timeout: STEP_TIMEOUT_MS });
            shots.push(await screenshot(page, "authorization-identity"));
            await page.locator(`#${ACCOUNT_FIELD}`).fill(PERSON);
            await page.locator(`#${ACCOUNT_FIELD}`).press("Enter");
            await page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: STEP_TIMEOUT_MS });
            assert(redirectedTo, "the wallet's redirect URI was not called");
            return redirectedTo;
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
  }
}
