// Named checks for the runners that drive a real `npm start` from Node (test/e2e/run.mjs,
// test/browser/run.mjs): each check runs in order, a failure is recorded and the run goes on, so one
// report shows everything wrong. Plain Node ESM, no test framework: these runners own a whole service
// process, which vitest inside workerd cannot.

/** A failed expectation: its message says it all (anything else thrown also gets its stack in the report). */
export class CheckError extends Error {}

export function assert(cond, message) {
  if (!cond) throw new CheckError(message);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Throws a CheckError naming what is missing when an earlier check did not produce it. */
export function need(ctx, ...keys) {
  const missing = keys.filter((k) => ctx[k] === undefined);
  if (missing.length) throw new CheckError(`not run: prerequisite failed (${missing.join(", ")})`);
}

export class Checks {
  constructor(prefix = "") {
    this.prefix = prefix;
    this.results = [];
  }

  /** A scope whose check names start with `prefix: ` and share this report. */
  scope(prefix) {
    const scoped = Object.create(this);
    scoped.prefix = prefix;
    return scoped;
  }

  /** Runs `fn`; it may return a one-line detail, or { detail, data } to put numbers in the report too. */
  async check(name, fn) {
    const full = this.prefix ? `${this.prefix}: ${name}` : name;
    const started = Date.now();
    let entry;
    try {
      const result = await fn();
      const { detail, data } = typeof result === "object" && result !== null ? result : { detail: result };
      entry = { name: full, ok: true, ms: Date.now() - started, ...(detail ? { detail } : {}), ...(data ? { data } : {}) };
      console.log(`ok  ${full}${detail ? ` (${detail})` : ""}`);
    } catch (e) {
      // Anything but a CheckError (a refused connection, a bug in the runner) gets its cause on the line
      // and its stack in the JSON report.
      const unexpected = !(e instanceof CheckError);
      const message = unexpected
        ? `${e?.name ?? "Error"}: ${e?.message ?? e}${e?.cause ? ` (${e.cause.message ?? e.cause})` : ""}`
        : e.message;
      entry = { name: full, ok: false, ms: Date.now() - started, error: message, ...(unexpected && e?.stack ? { stack: e.stack } : {}) };
      console.log(`FAIL ${full}: ${message}`);
    }
    this.results.push(entry);
    return entry.ok;
  }

  /** Records a failure that happened outside any check (an interrupted run, a crashed runner). */
  fail(name, error) {
    this.results.push({ name, ok: false, error });
  }

  get passed() {
    return this.results.filter((r) => r.ok).length;
  }

  get failed() {
    return this.results.length - this.passed;
  }
}
