#!/usr/bin/env node
// @ts-check
// Prints "N passed, N failed" from the reports the test stages wrote (vitest's JSON report, the
// build checks', the end-to-end run's, the restart test's, the browser run's, the type-check's and the
// lint's). A stage that left no report counts as one failure.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const reports = fileURLToPath(new URL("../reports/", import.meta.url));
let passed = 0;
let failed = 0;

/**
 * A stage's JSON report, or null when it left none.
 * @param {string} name
 * @returns {any} parsed JSON, whose shape belongs to the stage that wrote it
 */
function read(name) {
  try {
    return JSON.parse(readFileSync(`${reports}${name}`, "utf8"));
  } catch {
    return null;
  }
}

const vitest = read("vitest.json");
if (vitest) {
  passed += vitest.numPassedTests;
  // Failed and skipped/todo both count against: nothing may be left skipped.
  failed += vitest.numFailedTests + (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0);
  // A suite that failed to load has no tests to count: count it.
  failed += (vitest.testResults ?? []).filter(
    (/** @type {{ status: string, assertionResults?: unknown[] }} */ f) => f.status === "failed" && (f.assertionResults ?? []).length === 0,
  ).length;
} else failed += 1;

for (const name of ["build.json", "e2e.json", "restart-surge.json", "browser.json", "typecheck.json", "lint.json"]) {
  const r = read(name);
  if (r) {
    passed += r.passed;
    failed += r.failed;
  } else failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
