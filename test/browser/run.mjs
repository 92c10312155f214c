#!/usr/bin/env node
// Browser tests: the public pages driven in real headless Chromium (through playwright-core)
// against the real `npm start` service, as people would use them.
//
//   node test/browser/run.mjs                 (from the repository root; about a minute)
//   BROWSER_ONLY=waiting-page node test/browser/run.mjs
//
// Every other .mjs file in this directory is a page's checks: it exports `title` and
// `run({ base, browser, checks, idp })` (see waiting-page.mjs; `idp`: the OpenID Connect provider the
// service uses for identity in the authorization code flow); harness.mjs holds the shared machinery. One
// service and one browser serve all of them; each page uses rooms of its own. Results go to stdout and
// to reports/browser.json ({passed, failed, checks}), screenshots to reports/screenshots/, the
// service's output to reports/browser-server.log. Exit code 1 if anything failed.
//
// Environment: CHROMIUM_PATH (default: /usr/bin/chromium when present, else the Chromium the npm
// install brought, @sparticuz/chromium: tools/lib/chromium.mjs); BROWSER_IN_PLACE=1 serves the repository
// itself instead of a snapshot of it; BROWSER_KEEP=1 keeps the service's state directory.

import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startIdentityProviderFor } from "../support/oidc-provider.mjs";
import { Checks, launchBrowser, log, REPORTS, Service } from "./harness.mjs";
import { WALLET_ROOM } from "./wallet-flow.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const NOT_PAGES = new Set(["run.mjs", "harness.mjs"]);

const checks = new Checks();
const t0 = Date.now();
let service = null;
let browser = null;
/** The identity provider the service is pointed at (test/support/oidc-provider.mjs). */
let idp = null;

function report() {
  mkdirSync(REPORTS, { recursive: true });
  const { passed, failed } = checks;
  writeFileSync(
    join(REPORTS, "browser.json"),
    `${JSON.stringify({ passed, failed, duration_ms: Date.now() - t0, checks: checks.results }, null, 2)}\n`,
  );
  console.log(`browser: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return failed;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    checks.results.push({ name: "run interrupted", ok: false, error: signal });
    report();
    process.exit(130);
  });
}

async function main() {
  const only = process.env.BROWSER_ONLY?.split(",").map((s) => s.trim());
  const files = readdirSync(HERE)
    .filter((f) => f.endsWith(".mjs") && !NOT_PAGES.has(f))
    .filter((f) => !only || only.includes(f.replace(/\.mjs$/, "")))
    .sort();
  log(`pages: ${files.join(", ") || "none"}`);

  const up = await checks.check("service starts (npm start, fresh state, the test identity provider)", async () => {
    const t = Date.now();
    // The wallet flow's identity step needs an OpenID Connect provider the service is configured with
    // before it starts (test/support/oidc-provider.mjs).
    service = await new Service().start({
      configure: async (base) => {
        const started = await startIdentityProviderFor(base, log);
        idp = started.idp;
        return ["--var", `AUTHORIZATION_ROOM:${WALLET_ROOM}`, ...started.args];
      },
    });
    return `${service.base} in ${((Date.now() - t) / 1000).toFixed(1)} s, identity provider ${idp?.issuer}`;
  });
  const launched = await checks.check("Chromium launches headless", async () => {
    browser = await launchBrowser();
    return `Chromium ${browser.version()}`;
  });
  if (!up || !launched) return;

  for (const file of files) {
    const page = await import(pathToFileURL(join(HERE, file)).href);
    const scoped = checks.scope(page.title ?? file);
    const t = Date.now();
    try {
      await page.run({ base: service.base, browser, checks: scoped, idp });
    } catch (e) {
      // A page's own bug (not a failed check): recorded, and the next page still runs.
      await scoped.check("runs to the end", () => {
        throw e;
      });
    }
    log(`${file}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

try {
  await main();
} catch (e) {
  checks.results.push({ name: "browser runner", ok: false, error: `${e?.stack ?? e}` });
  console.log(`FAIL browser runner: ${e?.stack ?? e}`);
} finally {
  await browser?.close().catch(() => {});
  await idp?.close();
  const failed = checks.results.some((r) => !r.ok);
  await service?.stop({ keep: failed || Boolean(process.env.BROWSER_KEEP) });
  if (failed && service?.workDir) log(`kept ${service.workDir} for diagnosis`);
}
process.exit(report() > 0 ? 1 : 0);
