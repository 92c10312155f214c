// Shared machinery for the headless-browser tests (test/browser/run.mjs runs every page file here):
// the real `npm start` service on a free port with its own fresh state, a headless Chromium driven by
// playwright-core, named checks with a JSON report, screenshots, the admin API, and the client SDK
// bundled for Node so other people can stand in line next to the browser.
//
// Plain Node ESM, like test/e2e/run.mjs: no TypeScript step, no test framework. Nothing here ever
// downloads a browser: Chromium is CHROMIUM_PATH, else the system's /usr/bin/chromium, else the one
// `npm install` brought in @sparticuz/chromium (tools/lib/chromium.mjs).

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { DevServer } from "../../tools/lab/server.mjs";
import { assert, assertEqual, CheckError, Checks, need } from "../support/checks.mjs";
import { launchChromium } from "../../tools/lib/chromium.mjs";
import { freePort, snapshotTree } from "../../tools/lib/processes.mjs";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const REPORTS = join(REPO, "reports");
export const SCREENSHOTS = join(REPORTS, "screenshots");
export const ADMIN_TOKEN = "dev-admin-token"; // the embedded development default (src/config/dev-defaults.ts)

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (msg) => process.stdout.write(`  · ${msg}\n`);

// ---- checks ------------------------------------------------------------------------------------------

export { assert, assertEqual, CheckError, Checks, need };

// ---- the service ---------------------------------------------------------------------------------------

/** A port nobody holds (bind to 0), so a developer's `npm start` and parallel runs never clash. */
export { freePort };

/** Every service started and not yet stopped: killed on exit whatever ends the process. */
const running = new Set();
process.on("exit", () => {
  for (const s of running) s.killNow();
});

/**
 * The real `npm start` (the lab's DevServer: tools/start.mjs, migrations, wrangler's dev server
 * with ENVIRONMENT=development, the register seed) on a free port, with fresh state in a temporary directory,
 * run from a snapshot of the tree (BROWSER_IN_PLACE=1: the tree itself). Ready once the pages' bundle is
 * served too (static assets built and mounted), not only the API.
 */
export class Service {
  constructor({ logPath = join(REPORTS, "browser-server.log"), inPlace = Boolean(process.env.BROWSER_IN_PLACE) } = {}) {
    this.logPath = logPath;
    this.inPlace = inPlace;
    this.server = null;
    this.workDir = null;
  }

  get base() {
    return this.server?.base ?? null;
  }

  /**
   * `configure(base)`, when given, runs once the service's address is known and before it starts, and
   * answers extra `npm start` options (the runner points the service at its identity provider so).
   */
  async start({ configure = async () => [] } = {}) {
    mkdirSync(REPORTS, { recursive: true });
    rmSync(this.logPath, { force: true });
    this.workDir = mkdtempSync(join(tmpdir(), "antichambre-browser-"));
    const root = this.inPlace ? REPO : snapshotTree(REPO, this.workDir);
    const port = await freePort();
    this.server = new DevServer({
      root,
      port,
      persistDir: join(this.workDir, "state"),
      logPath: this.logPath,
      readyPaths: ["/v1/rooms/permis", "/static/waiting-page.js"],
      args: await configure(`http://127.0.0.1:${port}`),
    });
    running.add(this);
    await this.server.start();
    return this;
  }

  /** Stops the whole process group; the state directory goes too unless `keep`. */
  async stop({ keep = false } = {}) {
    await this.server?.stop();
    running.delete(this);
    if (this.workDir && !keep) rmSync(this.workDir, { recursive: true, force: true });
  }

  killNow() {
    this.server?.killNow();
  }
}

// ---- HTTP, admin API, identity, client SDK ------------------------------------------------------------------

/** One JSON request (the admin API, the dev identity service): resolves { status, headers, json, text }. */
export async function http(base, method, path, { body, token, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] ??= "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON.
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** PUT /v1/admin/rooms/{room} with the development admin token; asserts it was created or updated. */
export async function putRoom(base, room, config) {
  const res = await http(base, "PUT", `/v1/admin/rooms/${room}`, { body: config, token: ADMIN_TOKEN });
  assert(res.status === 201 || res.status === 200, `PUT /v1/admin/rooms/${room}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

/** An identity assertion for a demo person, from the development identity service. */
export async function identityAssertion(base, personId) {
  const res = await http(base, "POST", "/v1/dev/identity-assertions", { body: { person_id: personId } });
  assert(res.status === 201, `identity assertion for ${personId}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json.identity_assertion;
}

let sdk = null;

/**
 * The client SDK (client/, TypeScript) bundled for Node by esbuild and imported: the same code the
 * page and the mobile app run, so people queued from Node are real clients.
 */
export async function clientSdk() {
  if (sdk) return sdk;
  const dir = mkdtempSync(join(tmpdir(), "antichambre-sdk-"));
  const outfile = join(dir, "client.mjs");
  await build({
    absWorkingDir: REPO,
    entryPoints: ["client/index.ts"],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  sdk = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true, force: true });
  return sdk;
}

/** A person in line from Node: a fresh device key, a dev identity assertion, a join. Returns the SDK client. */
export async function queuePerson(base, room, personId) {
  const { AntichambreClient, DeviceKey } = await clientSdk();
  const client = new AntichambreClient({ baseUrl: base, room, device: await DeviceKey.create() });
  const joined = await client.join(await identityAssertion(base, personId));
  return { client, joined };
}

// ---- the browser ----------------------------------------------------------------------------------------

/** A headless Chromium through playwright-core: CHROMIUM_PATH, the system's, or the npm package's. */
export async function launchBrowser() {
  let launched;
  try {
    launched = await launchChromium();
  } catch (error) {
    throw new CheckError(`Chromium did not launch: ${error instanceof Error ? error.message : error}`);
  }
  log(`Chromium ${launched.browser.version()} (${launched.source}: ${launched.executablePath})`);
  return launched.browser;
}

/**
 * Collects what a page reports going wrong: uncaught exceptions, console errors (a CSP violation is
 * one), failed requests. `problems()` lists them; pages are expected to end with none.
 */
export function watchPage(page) {
  const seen = [];
  page.on("pageerror", (e) => seen.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") seen.push(`console error: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    // Navigations that replace a page abort its pending polls: not a problem.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") seen.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  return { problems: () => [...seen] };
}

/** A full-page PNG in reports/screenshots/<name>.png; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Every visible element with text on the page, with its WCAG 2.1 contrast ratio against the nearest
 * opaque background behind it, lowest first. A check asserts `ratio >= 4.5` (AA, normal text).
 */
export async function textContrasts(page) {
  const pairs = await page.evaluate(() => {
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const bg = getComputedStyle(e).backgroundColor;
        if (bg && !/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) return bg;
      }
      return "rgb(255, 255, 255)";
    };
    return [...document.querySelectorAll("h1, h2, h3, h4, p, a, label, button, legend, strong, span, time, td, th, li, dt, dd")]
      .filter((e) => e.offsetParent !== null && e.textContent.trim())
      .map((e) => ({ what: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}`, fg: getComputedStyle(e).color, bg: background(e) }));
  });
  return pairs.map((p) => ({ ...p, ratio: contrastRatio(p.fg, p.bg) })).sort((a, b) => a.ratio - b.ratio);
}

/** WCAG 2.1 contrast ratio of two CSS rgb()/rgba() colours (alpha ignored: pages here use opaque colours). */
export function contrastRatio(fg, bg) {
  const lum = (css) => {
    const [r, g, b] = css
      .match(/[\d.]+/g)
      .slice(0, 3)
      .map(Number)
      .map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
