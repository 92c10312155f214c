#!/usr/bin/env node
// @ts-check
// `npm test`: type-check, every vitest suite inside workerd, the Node-side build checks (the production
// bundle holds no development secret or route, `npm run keys` prints no secret: test/build/run.mjs),
// then the end-to-end run against a real `npm start` (test/e2e/run.mjs), and the public pages in
// headless Chromium against another one (test/browser/run.mjs). Every stage runs even if an earlier
// one failed, so one red test does not hide the rest; the exit code is non-zero if anything failed. Results land in reports/.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
mkdirSync(`${root}reports`, { recursive: true });

/**
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 */
function run(name, command, args) {
  console.log(`\n== ${name}: ${command} ${args.join(" ")}`);
  const r = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  return r.status === 0;
}

// The pages' browser bundles first: the Worker's static assets must exist for everything after.
const pages = run("pages bundle", "node", ["tools/build-pages.mjs"]);
// The Worker, the browser bundle and the Node tools are type-checked apart (Workers, DOM and Node types
// conflict).
const workerTypes = run("typecheck", "npx", ["tsc", "-p", "."]);
const browserTypes = run("typecheck (browser bundle)", "npx", ["tsc", "-p", "src/pages/browser"]);
// The Env bindings' types are generated from wrangler.toml (`npm run types`): fail if the committed file is stale.
const envTypes = run("typecheck (worker-configuration.d.ts is current)", "node", ["test/build/worker-types.mjs"]);
// The Node tools (.mjs, `// @ts-check` with JSDoc types) against Node's types: tools/tsconfig.json.
const toolTypes = run("typecheck (Node tools)", "npx", ["tsc", "-p", "tools"]);
const typecheck = workerTypes && browserTypes && envTypes && toolTypes && pages;
writeFileSync(`${root}reports/typecheck.json`, JSON.stringify({ passed: typecheck ? 1 : 0, failed: typecheck ? 0 : 1 }));
// Lint: formatting, eslint and knip (unused files/exports); one pass or failure per tool (docs/contributing.md).
const lintTools = [
  run("lint: prettier", "npx", ["prettier", "--check", "."]),
  run("lint: eslint", "npx", ["eslint", "."]),
  run("lint: knip", "npx", ["knip"]),
];
const lint = lintTools.every(Boolean);
writeFileSync(
  `${root}reports/lint.json`,
  JSON.stringify({ passed: lintTools.filter(Boolean).length, failed: lintTools.filter((ok) => !ok).length }),
);
const unitAndHttp = run("vitest (workerd)", "npx", ["vitest", "run"]);
const build = run("build (production bundle, keys tool)", "node", ["test/build/run.mjs"]);
const e2e = run("end to end (npm start)", "node", ["test/e2e/run.mjs"]);
const restart = run("restart mid-surge (npm start, SIGKILL)", "node", ["test/e2e/restart-surge.mjs"]);
const browser = run("browser (headless Chromium, npm start)", "node", ["test/browser/run.mjs"]);
const summary = spawnSync("node", ["tools/test-summary.mjs"], { cwd: root, encoding: "utf8" });
process.stdout.write(summary.stdout);
process.exit(typecheck && lint && unitAndHttp && build && e2e && restart && browser ? 0 : 1);
