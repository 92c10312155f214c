// @ts-check
// V8 flags for the workerd that wrangler's dev server starts: a measuring knob, not a setting.
//
// workerd takes V8 flags only from its config (`Config.v8Flags`), and Miniflare builds that config
// without them and offers no option for it. To show what the local runtime's memory is made of (a whole
// soak with the young generation capped against one without), `npm start -- --v8-flag=…` adds them
// where Miniflare encodes the config: its one `encodeCapnpStruct(config, struct)` call, rewritten in
// Miniflare's source as Node compiles it. Must run before wrangler (and so Miniflare) is first loaded.
//
// Pinned wrangler and Miniflare make the rewrite exact; should a new Miniflare change the line, this
// refuses to start rather than run silently without the flags.
import Module, { createRequire } from "node:module";

const NEEDLE = "encodeCapnpStruct(config, struct);";

/** Flags V8 understands look like `--name` or `--name=value`; nothing that could end the string literal. */
const FLAG = /^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/;

/**
 * Arranges for every workerd config Miniflare writes to carry `flags`. Returns a check to call once the
 * Worker has started: it throws if Miniflare was loaded without the rewrite taking place.
 */
/** @param {string[]} flags */
export function passV8FlagsToWorkerd(flags) {
  for (const flag of flags) if (!FLAG.test(flag)) throw new Error(`not a V8 flag: "${flag}" (expected --name or --name=value)`);
  const miniflareEntry = createRequire(import.meta.url).resolve("miniflare");
  // Node's internal compile step, absent from @types/node: typed here with the one signature used.
  const proto = /** @type {{ _compile: (this: unknown, content: string, filename: string) => unknown }} */ (
    /** @type {unknown} */ (Module.prototype)
  );
  const compile = proto._compile;
  let rewritten = false;
  proto._compile = function compileWithV8Flags(content, filename) {
    if (filename === miniflareEntry) {
      if (content.split(NEEDLE).length !== 2)
        throw new Error(`${filename}: "${NEEDLE}" is not there exactly once; cannot pass V8 flags to this Miniflare`);
      content = content.replace(NEEDLE, `encodeCapnpStruct({ ...config, v8Flags: ${JSON.stringify(flags)} }, struct);`);
      rewritten = true;
    }
    return compile.call(this, content, filename);
  };
  return function assertPassed() {
    if (!rewritten) throw new Error("Miniflare was loaded without the V8 flags rewrite");
  };
}
