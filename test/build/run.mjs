#!/usr/bin/env node
// The Node-side checks of what ships (npm test's "build" stage): the production bundle's contents
// (production-bundle.test.mjs) and `npm run keys` (keys.test.mjs). node:test, outside workerd: they run
// wrangler's build and the keys tool as processes. Counts go to reports/build.json for
// tools/test-summary.mjs; the exit code is non-zero if any check failed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { ROOT } from "./dev-values.mjs";

const files = ["production-bundle.test.mjs", "keys.test.mjs"].map((f) => join(ROOT, "test", "build", f));
let passed = 0;
let failed = 0;
/** Files that reported at least one test: a file that fails without any failed to load. */
const reported = new Set();
const stream = run({ files, concurrency: 1 });
const isFile = (t) => files.includes(t.name);
// Tests only: suites and the files themselves report too, and would count a failure twice.
stream.on("test:pass", (t) => {
  if (t.details?.type === "suite" || isFile(t)) return;
  passed += 1;
  reported.add(t.file);
});
stream.on("test:fail", (t) => {
  if (t.details?.type === "suite") return;
  if (isFile(t)) {
    if (!reported.has(t.name)) failed += 1;
    return;
  }
  failed += 1;
  reported.add(t.file);
});
stream.compose(spec).pipe(process.stdout);
await new Promise((resolve) => stream.on("close", resolve));
mkdirSync(join(ROOT, "reports"), { recursive: true });
writeFileSync(join(ROOT, "reports", "build.json"), JSON.stringify({ passed, failed }));
console.log(`build checks: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
