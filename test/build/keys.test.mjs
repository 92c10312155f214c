// `npm run keys` (tools/keys.mjs): secrets go to a file only its owner can read, never to the
// terminal (issue 13); --put hands each to `wrangler secret put` on its standard input; --dev-module
// still regenerates src/config/dev-credentials.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT } from "./dev-values.mjs";

const KEYS = join(ROOT, "tools/keys.mjs");
const NAMES = [
  "ADMIN_TOKEN",
  "PSEUDONYM_KEY",
  "TICKET_KEYS",
  "SIGNING_KEYS",
  "MDOC_DS_KEY",
  "MDOC_DS_CERT",
  "IACA_CERT",
  "STATUS_LIST_KEY",
  "STATUS_LIST_CERT",
];
const work = mkdtempSync(join(tmpdir(), "antichambre-keys-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the tool under `umask 000` (the worst case for the file's mode), in a shell so the umask applies. */
function keys(args, env = {}) {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return spawnSync("sh", ["-c", `umask 000 && exec node '${KEYS}' ${quoted}`], { cwd: work, encoding: "utf8", env: { ...process.env, ...env } });
}

/** Every secret value and the parts of each worth hiding (JWK members, HMAC keys), 12 characters or more. */
function secretStrings(file) {
  const out = new Set();
  const walk = (v) => {
    if (typeof v === "string") {
      out.add(v.trim());
      try {
        walk(JSON.parse(v));
      } catch {
        // Not JSON.
      }
    } else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(JSON.parse(readFileSync(file, "utf8")));
  return [...out].filter((s) => s.length >= 12 && !s.startsWith("-----BEGIN"));
}

const mode = (file) => statSync(file).mode & 0o777;

describe("npm run keys", () => {
  test("writes every secret, ADMIN_TOKEN and PSEUDONYM_KEY included, to new files of mode 0600, and prints none", () => {
    const out = join(work, "deploy.json");
    const r = keys(["--out", out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(mode(out), 0o600);
    assert.equal(mode(join(work, "deploy.iaca.json")), 0o600);
    const secrets = JSON.parse(readFileSync(out, "utf8"));
    assert.deepEqual(Object.keys(secrets).sort(), [...NAMES].sort());
    for (const name of ["ADMIN_TOKEN", "PSEUDONYM_KEY"]) assert.ok(Buffer.from(secrets[name], "base64url").length >= 32, `${name} is short`);
    const hidden = [...secretStrings(out), ...secretStrings(join(work, "deploy.iaca.json"))];
    assert.ok(hidden.includes(secrets.ADMIN_TOKEN) && hidden.includes(JSON.parse(secrets.SIGNING_KEYS)[0].d));
    const terminal = r.stdout + r.stderr;
    assert.deepEqual(hidden.filter((s) => terminal.includes(s)), []);
    assert.ok(r.stdout.includes(out), "the file's path is not printed");
    for (const name of NAMES) assert.match(r.stdout, new RegExp(`^npx wrangler secret put ${name}$`, "m"));
  });

  test("refuses to overwrite an existing file, and writes nothing then", () => {
    const out = join(work, "existing.json");
    writeFileSync(out, "the keys in use\n");
    chmodSync(out, 0o644);
    const r = keys(["--out", out]);
    assert.notEqual(r.status, 0);
    assert.equal(readFileSync(out, "utf8"), "the keys in use\n");
    assert.equal(existsSync(join(work, "existing.iaca.json")), false);

    // Nor over an existing IACA file beside a new secrets file.
    const iaca = join(work, "second.iaca.json");
    writeFileSync(iaca, "offline key\n");
    assert.notEqual(keys(["--out", join(work, "second.json")]).status, 0);
    assert.equal(readFileSync(iaca, "utf8"), "offline key\n");
    assert.equal(existsSync(join(work, "second.json")), false);
  });

  test("--put pipes each secret into `npx wrangler secret put NAME` on stdin, never on the command line or the terminal", () => {
    // A stand-in npx first on PATH records its arguments and standard input.
    const bin = join(work, "bin");
    const log = join(work, "put-log");
    spawnSync("mkdir", ["-p", bin, log]);
    writeFileSync(join(bin, "npx"), `#!/bin/sh\nname="$4"\nprintf '%s\\n' "$@" > "${log}/$name.args"\ncat > "${log}/$name.stdin"\n`, { mode: 0o755 });
    const out = join(work, "put.json");
    const r = keys(["--out", out, "--put"], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.status, 0, r.stderr);
    const secrets = JSON.parse(readFileSync(out, "utf8"));
    for (const name of NAMES) {
      assert.deepEqual(readFileSync(join(log, `${name}.args`), "utf8").trim().split("\n"), ["wrangler", "secret", "put", name]);
      assert.equal(readFileSync(join(log, `${name}.stdin`), "utf8"), secrets[name]);
    }
    const terminal = r.stdout + r.stderr;
    assert.deepEqual(secretStrings(out).filter((s) => terminal.includes(s)), []);
  });

  test("--dev-module still prints the development credentials module (and writes no file)", () => {
    const r = keys(["--dev-module", "--out", join(work, "dev.json")]);
    assert.equal(r.status, 0, r.stderr);
    for (const name of ["DEV_IACA_CERT_PEM", "DEV_MDOC_DS_CERT_PEM", "DEV_MDOC_DS_KEY"]) assert.match(r.stdout, new RegExp(`^export const ${name} = `, "m"));
    const key = JSON.parse(JSON.parse(/^export const DEV_MDOC_DS_KEY = (.*);$/m.exec(r.stdout)[1]));
    assert.equal(typeof key.d, "string");
    assert.equal(existsSync(join(work, "dev.json")), false);
  });
});

describe("tools/rotate-keys.mjs", () => {
  test("writes the rotated lists to a new 0600 file and prints no key, only the bulk upload command", () => {
    const from = join(work, "rotate-from.json");
    assert.equal(keys(["--out", from]).status, 0);
    const next = join(work, "rotate-next.json");
    const r = spawnSync("sh", ["-c", `umask 000 && exec node '${join(ROOT, "tools/rotate-keys.mjs")}' --from '${from}' --out '${next}'`], { cwd: work, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(mode(next), 0o600);
    const rotated = JSON.parse(readFileSync(next, "utf8"));
    assert.equal(JSON.parse(rotated.TICKET_KEYS).length, 2, "the new ticket key is prepended to the old one");
    assert.equal(JSON.parse(rotated.SIGNING_KEYS).length, 2, "the new signing key is prepended to the old one");
    const terminal = r.stdout + r.stderr;
    // Key ids are public (the JWKS names them; the tool says which one signs now): everything else is hidden.
    const kids = new Set([...JSON.parse(rotated.TICKET_KEYS), ...JSON.parse(rotated.SIGNING_KEYS)].map((k) => k.kid));
    assert.deepEqual(secretStrings(next).filter((s) => !kids.has(s) && terminal.includes(s)), []);
    assert.match(r.stdout, new RegExp(`^npx wrangler secret bulk ${next.replaceAll("/", "\\/")}$`, "m"));
  });
});
