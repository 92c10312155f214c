// @ts-check
// The Chromium the headless-browser runs drive (test/browser), through playwright-core (which never
// downloads a browser itself). Nothing to install by hand, nothing fetched at run time:
//
//   1. CHROMIUM_PATH, when set: that binary.
//   2. /usr/bin/chromium, when present (Debian's package): starts faster, nothing to unpack.
//   3. Otherwise @sparticuz/chromium, a devDependency that ships a headless Chromium inside the npm
//      package (brotli-compressed); its first use unpacks it into the temporary directory (~2 s, about
//      200 MB), later runs reuse it. Version 147.0.0 is pinned: later ones need Node 22.
//
// Flags: the packaged build is chrome-headless-shell, made for AWS Lambda, and @sparticuz/chromium's
// `args` suit that. Kept: its GPU (SwiftShader), font and no-zygote/no-sandbox flags. Left out:
//   --single-process: needed only inside Lambda's sandbox; here it makes closing one browser context
//     (the dashboard's checks do) take the whole browser down with it;
//   --disable-features= / --enable-features=: Chromium keeps the last of a repeated switch, so these
//     would silently replace playwright's own lists (its HttpsUpgrades and the like), and what they set
//     (site isolation off, SharedArrayBuffer) the pages do not need;
//   --disable-web-security, --allow-running-insecure-content, --disable-site-isolation-trials: the pages'
//     tests check what a real browser enforces (the CSP, same-origin requests), and a browser that
//     enforces less could let a regression through.
import { existsSync } from "node:fs";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** What every run needs, whichever binary: root in a container has no sandbox, /dev/shm is small. */
const HARNESS_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"];

/** @sparticuz/chromium's defaults left out (see above). */
const DROPPED_ARGS = new Set([
  "--single-process",
  "--disable-web-security",
  "--allow-running-insecure-content",
  "--disable-site-isolation-trials",
]);
const keepPackagedArg = (/** @type {string} */ arg) =>
  !DROPPED_ARGS.has(arg) && !arg.startsWith("--disable-features=") && !arg.startsWith("--enable-features=");

/**
 * The executable and launch arguments: `{ executablePath, args, source }`, `source` saying which
 * Chromium it is ("CHROMIUM_PATH", "system" or "@sparticuz/chromium") for the run's log.
 */
export async function chromiumLaunchOptions() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return { executablePath: configured, args: HARNESS_ARGS, source: "CHROMIUM_PATH" };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, args: HARNESS_ARGS, source: "system" };
  const { default: packaged } = await import("@sparticuz/chromium");
  const args = [...new Set([...packaged.args.filter(keepPackagedArg), ...HARNESS_ARGS])];
  return { executablePath: await packaged.executablePath(), args, source: "@sparticuz/chromium" };
}

/** A headless Chromium through playwright-core, from chromiumLaunchOptions(). */
export async function launchChromium() {
  const { executablePath, args, source } = await chromiumLaunchOptions();
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args, headless: true });
  return { browser, source, executablePath };
}
