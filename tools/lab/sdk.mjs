// @ts-check
// The client SDK for Node-side tools (surge, soak, faults, the restart test), bundled from its
// TypeScript source at start (no separate build step), with the pure modules the tools need beside it:
// the simulator's inversion count (admission order, tools/sim/fairness.ts) and seeded generator
// (src/lib/seeded-random.ts), and the synthetic register's population (who holds a licence valid today,
// src/register/seed.ts). The tools hold no protocol logic
// of their own: every request a device makes goes through the SDK, as the mobile app's would.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * What loadLab answers. `sdk` is the bundled client/index.ts module, left untyped here: its types are
 * checked where it is written (the root tsconfig), and importing them into this Node check would drag
 * in the Worker's and the browser's type libraries, which conflict with Node's.
 * @typedef {{
 *   sdk: any,
 *   countInversions: (values: number[]) => number,
 *   population: string[],
 *   mulberry32: (seed: number) => () => number,
 * }} Lab
 */

/**
 * Bundles and imports. Each process bundles into a fresh temporary directory (removed once imported), so
 * tools running side by side never import each other's half-written bundle.
 * @param {string} root the repository
 * @returns {Promise<Lab>}
 */
export async function loadLab(root) {
  const outdir = mkdtempSync(join(tmpdir(), "antichambre-lab-"));
  try {
    await build({
      entryPoints: {
        client: join(root, "client", "index.ts"),
        fairness: join(root, "tools", "sim", "fairness.ts"),
        population: join(root, "src", "register", "seed.ts"),
        random: join(root, "src", "lib", "seeded-random.ts"),
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outdir,
      outExtension: { ".js": ".mjs" },
      logLevel: "warning",
      legalComments: "none",
      // The register's schema is its migration file, imported as text (src/register/schema.ts).
      loader: { ".sql": "text" },
    });
    const load = (/** @type {string} */ name) => import(pathToFileURL(join(outdir, `${name}.mjs`)).href);
    const [sdk, fairness, population, random] = await Promise.all([load("client"), load("fairness"), load("population"), load("random")]);
    return { sdk, countInversions: fairness.countInversions, population: validHolders(population), mulberry32: random.mulberry32 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Person ids of the synthetic register whose licence is valid today (by date and by status: the
 * demonstration holders with a suspended or withdrawn licence are left out): they end issued, not denied.
 * @param {{ syntheticHolder: (n: number) => { expiry_date: string }, personIdFor: (n: number) => string, seededLicenceStatus: (n: number) => string, REGISTER_POPULATION: number }} seed
 */
function validHolders({ syntheticHolder, personIdFor, seededLicenceStatus, REGISTER_POPULATION }) {
  const today = new Date().toISOString().slice(0, 10);
  const ids = [];
  for (let n = 1; n <= REGISTER_POPULATION; n++)
    if (syntheticHolder(n).expiry_date > today && seededLicenceStatus(n) === "valid") ids.push(personIdFor(n));
  return ids;
}
