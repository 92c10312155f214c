#!/usr/bin/env node
// @ts-check
// Key rotation without downtime for the two key LISTS the Worker reads (SECURITY.md, "Rotating keys"):
// TICKET_KEYS (HMAC: tickets, sealed codes and tokens, proof-of-work challenges, handoff codes) and
// SIGNING_KEYS (ES256: admission tokens, SD-JWT VCs; published in the JWKS). The first key of a list
// signs, every key verifies. Works on a secrets file in `wrangler secret bulk` format, such as the one
// `npm run keys` writes (Cloudflare never gives secret values back: keep that file in your vault).
//
//   node tools/rotate-keys.mjs --from antichambre-keys.json --out next.json          # step 1: add
//   node tools/rotate-keys.mjs --from next.json --out final.json --retire             # step 2: retire
//       [--only TICKET_KEYS|SIGNING_KEYS]
//
// Step 1 prepends a fresh key to each list (new kid signs, the old ones still verify); step 2, once the
// overlap has passed, keeps only the newest key. Both write the whole file (other secrets unchanged,
// mode 0600) and print, without any value, the `wrangler secret bulk` command that uploads it.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const LISTS = ["TICKET_KEYS", "SIGNING_KEYS"];
const { values: args } = parseArgs({
  options: { from: { type: "string" }, out: { type: "string" }, retire: { type: "boolean", default: false }, only: { type: "string" } },
});
if (!args.from || !args.out) fail("usage: node tools/rotate-keys.mjs --from FILE --out FILE [--retire] [--only TICKET_KEYS|SIGNING_KEYS]");
if (args.only && !LISTS.includes(args.only)) fail(`--only must be one of ${LISTS.join(", ")}`);
if (args.from === args.out) fail("--out must differ from --from: keep the previous file until the rotation is over");

/** The secrets file: name → value (a key list is itself JSON, a string here). @type {Record<string, string>} */
const secrets = JSON.parse(readFileSync(args.from, "utf8"));
const today = new Date().toISOString().slice(0, 10).replaceAll("-", "");
const changed = [];
for (const name of args.only ? [args.only] : LISTS) {
  /** @type {unknown} */
  const parsed = JSON.parse(secrets[name] ?? "null");
  /** @type {(list: unknown) => list is [{ kid: string }, ...Array<{ kid: string }>]} */
  const isKeyList = (list) => Array.isArray(list) && list.length > 0 && list.every((k) => typeof k?.kid === "string");
  if (!isKeyList(parsed)) fail(`${args.from}: ${name} is not a list of keys with kids`);
  const list = parsed;
  let next;
  if (args.retire) {
    if (list.length === 1) {
      console.error(`# ${name}: one key only (${list[0].kid}), nothing to retire`);
      continue;
    }
    next = [list[0]];
    console.error(
      `# ${name}: keeping ${list[0].kid}, retiring ${list
        .slice(1)
        .map((k) => k.kid)
        .join(", ")}`,
    );
  } else {
    const fresh = name === "TICKET_KEYS" ? ticketKey() : await signingKey();
    if (list.some((k) => k.kid === fresh.kid)) fail(`${name}: kid ${fresh.kid} already in use`);
    next = [fresh, ...list];
    console.error(`# ${name}: ${fresh.kid} now signs; ${list.map((k) => k.kid).join(", ")} still verify`);
  }
  secrets[name] = JSON.stringify(next);
  changed.push(name);
}
writeFileSync(args.out, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
console.error(`# Wrote ${args.out} (private keys: never commit it).`);
// Never the values on the terminal (scrollback, screen shares, CI logs): the command reads them from the file.
if (changed.length > 0) console.log(`# changed: ${changed.join(", ")}\nnpx wrangler secret bulk ${args.out}`);

function ticketKey() {
  const random = crypto.getRandomValues(new Uint8Array(36));
  return {
    kid: `ticket-${today}-${Buffer.from(random.slice(32)).toString("hex")}`,
    k: Buffer.from(random.slice(0, 32)).toString("base64url"),
  };
}

/** The same shape and kid convention as `npm run keys` (tools/keys.mjs). */
async function signingKey() {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", keys.privateKey);
  const thumbprint = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  return { kid: `signing-${today}-${Buffer.from(thumbprint).toString("base64url").slice(0, 8)}`, kty, crv, x, y, d };
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(message);
  process.exit(1);
}
