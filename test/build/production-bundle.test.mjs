// The bundle `wrangler deploy` builds (wrangler.toml's main, src/index.ts) holds no development secret
// and no development-only route (issue 13). Built offline with `wrangler deploy --dry-run --outdir`, the
// very command that deploys minus the upload; the development entry is built the same way and must show
// what the scan looks for, so the scan is seen to work.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEV_ONLY_MARKERS, DEV_ONLY_MODULES, devSecretValues, ROOT } from "./dev-values.mjs";

const work = mkdtempSync(join(tmpdir(), "antichambre-build-"));

/** `wrangler deploy [entry] --dry-run --outdir DIR`: the uploaded JavaScript, and the source map's module list. */
function build(name, entry) {
  const outdir = join(work, name);
  const r = spawnSync("npx", ["wrangler", "deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_LOG_PATH: join(work, "logs"), NO_COLOR: "1", CI: "true" },
  });
  assert.equal(r.status, 0, `wrangler deploy --dry-run (${name}) failed:\n${r.stdout}\n${r.stderr}`);
  const files = readdirSync(outdir);
  const js = files.filter((f) => /\.m?js$/.test(f));
  assert.ok(js.length > 0, `no JavaScript in ${outdir}: ${files.join(", ")}`);
  const maps = files.filter((f) => f.endsWith(".map"));
  return {
    code: js.map((f) => readFileSync(join(outdir, f), "utf8")).join("\n"),
    sources: maps.flatMap((f) => JSON.parse(readFileSync(join(outdir, f), "utf8")).sources),
  };
}

const found = (code, needles) => needles.filter((n) => code.includes(n));

/** Every file under `dir`, read as text. */
function readTree(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath ?? e.path, e.name), "utf8"))
    .join("\n");
}
const devModulesIn = (sources) => sources.filter((s) => DEV_ONLY_MODULES.some((m) => s.includes(m)));

let secrets;
let production;
let development;
before(async () => {
  secrets = await devSecretValues();
  production = build("production");
  development = build("development", "src/dev/index.ts");
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("the production bundle (wrangler deploy)", () => {
  test("contains no development secret: keys' d, HMAC keys, admin token, pseudonym key, DS key, identity key, certificates", () => {
    assert.ok(secrets.length >= 20, `only ${secrets.length} development values found to look for`);
    assert.deepEqual(found(production.code, secrets), []);
  });

  test("contains no development-only route or fault switch (/v1/dev, identity service, register seed, faults)", () => {
    assert.deepEqual(found(production.code, DEV_ONLY_MARKERS), []);
  });

  test("uploads static assets (build/public, which the build step has just rebuilt) with no development secret either", () => {
    const assets = readTree(join(ROOT, "build", "public"));
    assert.ok(assets.length > 0, "no static assets to check");
    assert.deepEqual(found(assets, secrets), []);
  });

  test("bundles no development module", () => {
    assert.ok(production.sources.length > 0, "the source map lists no module");
    assert.ok(production.sources.some((s) => s.includes("src/faults/points.ts")), "the fault points module (production) is not in the map: the map check would see nothing");
    assert.deepEqual(devModulesIn(production.sources), []);
  });
});

describe("the development entry's bundle (npm start, tests)", () => {
  test("shows every kind of value the scan looks for, so the scan can fail", () => {
    assert.deepEqual(
      secrets.filter((s) => !development.code.includes(s)),
      [],
      "development values the scan would not see even where they are",
    );
    assert.deepEqual(found(development.code, DEV_ONLY_MARKERS), DEV_ONLY_MARKERS);
    assert.ok(devModulesIn(development.sources).length > 0);
  });
});
