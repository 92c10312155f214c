// The development defaults as data, for the Node-side checks: every string a production bundle must not
// contain. Read from the TypeScript sources themselves (bundled in memory by esbuild), so a new or
// regenerated default is checked without touching this file.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function loadDevModules() {
  const out = await build({
    stdin: {
      contents: ['export * from "./src/dev/secrets.ts";', 'export * from "./src/config/dev-defaults.ts";', 'export * from "./src/config/dev-credentials.ts";', 'export * from "./src/config/dev-wallet-provider.ts";'].join("\n"),
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
}

/** Every string leaf of a value, JSON strings parsed and PEM certificates split into their base64 lines. */
function leaves(value, into) {
  if (typeof value === "string") {
    if (value.includes("-----BEGIN")) {
      for (const line of value.split("\n")) if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) into.add(line);
      return into;
    }
    try {
      const parsed = JSON.parse(value);
      if (parsed && typeof parsed === "object") return leaves(parsed, into);
    } catch {
      // Not JSON: the string itself.
    }
    into.add(value);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) leaves(v, into);
  }
  return into;
}

/**
 * The values to look for: every development default (the secrets, the identity service's key and
 * issuer, the mdoc keys and certificates), down to each JWK member and certificate line. Strings under
 * 12 characters ("EC", "P-256", "ES256") are left out: they are not development's and would match anywhere.
 */
export async function devSecretValues() {
  const mod = await loadDevModules();
  return [...leaves(Object.values(mod), new Set())].filter((s) => s.length >= 12);
}

/** What only the development kit serves: its routes and the fault switch. */
export const DEV_ONLY_MARKERS = [
  "/v1/dev",
  "dev-oidc-code+jwt",
  "/identity-assertions",
  "/wallet-attestations",
  "/key-attestations",
  "/register/seed",
  "/register/licence-status",
  "/register/sync",
  '"/faults"',
  "fault injection exists only in development",
];

/** Modules only the development entry may bundle (matched against the source map's `sources`). */
export const DEV_ONLY_MODULES = [
  "src/dev/",
  "src/config/dev-defaults.ts",
  "src/config/dev-credentials.ts",
  "src/config/dev-wallet-provider.ts",
  "src/identity/dev-identity.ts",
  "src/faults/faults.ts",
  "src/faults/routes.ts",
  "src/register/seed.ts",
  // The register's DDL (its migration file as text): the production Worker only reads the table.
  "src/register/schema.ts",
];
