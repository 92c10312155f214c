// The Chromium the headless-browser runs drive (test/browser), through playwright-core (which never
// downloads a browser itself). Nothing to install by hand, nothing fetched at run time:
//
//   1. CHROMIUM_PATH, when set: that binary.
//   2. /usr/bin/chromium, when present (Debian's package): starts faster, nothing to unpack.
//   3. Otherwise @sparticuz/chromium, a devDependency that ships a headless Chromium inside the npm
//      package (brotli-compressed); its first use unpacks it into the temporary directory (~2 s, about
//      200 MB), later runs reuse it. Version 147.0.0 is pinned: later ones need Node 22.
//
// Flags: the packaged build is chrome-headless-shell, made for running as root in a container, and
// needs its own flags (single process, no zygote, no sandbox, its font and GPU setup). Its defaults
// also switch off some of the browser's security (web security, insecure content, site isolation):
// those are left out, because the pages' tests check what a real browser enforces (the CSP, same-origin
// requests) and a browser that enforces less could let a regression through.
import { existsSync } from "node:fs";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** What every run needs, whichever binary: root in a container has no sandbox, /dev/shm is small. */
const HARNESS_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"];

/** @sparticuz/chromium's defaults that weaken what the tests check. */
const WEAKENING_ARGS = new Set(["--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials"]);

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
  const args = [...new Set([...packaged.args.filter((a) => !WEAKENING_ARGS.has(a)), ...HARNESS_ARGS])];
  return { executablePath: await packaged.executablePath(), args, source: "@sparticuz/chromium" };
}

/** A headless Chromium through playwright-core, from chromiumLaunchOptions(). */
export async function launchChromium() {
  const { executablePath, args, source } = await chromiumLaunchOptions();
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args, headless: true });
  return { browser, source, executablePath };
}
