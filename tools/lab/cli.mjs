// @ts-check
// Command-line options for the lab's tools (surge, faults, soak): node:util's parseArgs plus the checks
// every one of them needs. A bad option ends the process with status 2 and a one-line reason, --help
// prints the usage and exits 0, and a service URL must be loopback http:// (these tools only ever drive
// a local `npm start`; they must never be pointed at a real deployment).
import { parseArgs } from "node:util";

const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/**
 * Ends the process as a refused invocation: status 2, the reason on stderr.
 * @param {string} tool
 * @param {string} message
 * @returns {never}
 */
export function failTool(tool, message) {
  console.error(`${tool}: ${message}`);
  process.exit(2);
}

/**
 * Parses argv against `spec` (parseArgs options; --help is added) and returns the values with checkers.
 * @template {NonNullable<import("node:util").ParseArgsConfig["options"]>} Spec
 * @param {string} tool
 * @param {Spec} spec
 * @param {string} usage
 */
export function toolOptions(tool, spec, usage) {
  const fail = (/** @type {string} */ message) => failTool(tool, message);
  /** @type {Record<string, string | boolean | undefined>} */
  let raw = {};
  try {
    raw = parseArgs({ options: { ...spec, help: { type: "boolean", short: "h", default: false } }, strict: true }).values;
  } catch (e) {
    fail(`${e instanceof Error ? e.message : String(e)}\n${usage}`);
  }
  // parseArgs has checked every value against `spec` (strict), so the values have the types it declares.
  const values = /** @type {ReturnType<typeof parseArgs<{ options: Spec, strict: true }>>["values"]} */ (raw);
  if (raw.help) {
    console.log(usage);
    process.exit(0);
  }
  /** The option as a number in lo…hi (an integer unless `fractional`). */
  const number = (
    /** @type {keyof Spec & string} */ name,
    /** @type {number} */ lo,
    /** @type {number} */ hi,
    { fractional = false } = {},
  ) => {
    const n = Number(raw[name]);
    const kind = fractional ? "a number" : "an integer";
    if (!Number.isFinite(n) || (!fractional && !Number.isInteger(n)) || n < lo || n > hi) fail(`--${name} must be ${kind} in ${lo}…${hi}`);
    return n;
  };
  /** The option as a loopback http:// base URL without trailing slashes (undefined when not given). */
  const loopback = (name = "base") => {
    const given = raw[name];
    if (given === undefined) return undefined;
    const base = String(given).replace(/\/+$/, "");
    /** @type {URL} */
    let url;
    try {
      url = new URL(base);
    } catch {
      return fail(`--${name} is not a URL: ${base}`);
    }
    if (!LOOPBACK_HOSTS.includes(url.hostname) || url.protocol !== "http:") {
      fail(`--${name} must be a loopback http:// URL (this tool only drives a local npm start), not ${base}`);
    }
    return base;
  };
  return {
    values,
    fail,
    int: (/** @type {keyof Spec & string} */ name, /** @type {number} */ lo, /** @type {number} */ hi) => number(name, lo, hi),
    num: (/** @type {keyof Spec & string} */ name, /** @type {number} */ lo, /** @type {number} */ hi) =>
      number(name, lo, hi, { fractional: true }),
    loopback,
  };
}
