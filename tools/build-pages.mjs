#!/usr/bin/env node
// @ts-check
// Builds the browser bundles the pages load (the public waiting page's and the operator dashboard's), into
// build/public/static/ (gitignored), which wrangler.toml serves as Workers Static Assets. One small ESM
// file per page, minified, no framework.
//
// Runs before everything that needs them: wrangler itself (`[build] command` in wrangler.toml, so
// `npm start`, `npm run build`, `wrangler deploy` and the end-to-end bundle check), vitest
// (vitest.config.ts: the asset directory must exist for the Worker to load), and `npm test`.
// About 0.1 s; prints one line per bundle with its size.
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const OUT_DIR = `${root}build/public/static`;

/** Served path /static/<name>.js → entry module. Another page adds its line here. */
const ENTRIES = {
  "waiting-page": "src/pages/browser/waiting-page.ts",
  dashboard: "src/pages/browser/dashboard.ts",
};

/** Builds every bundle; resolves with their sizes in bytes by name. */
export async function buildPages({ quiet = false } = {}) {
  mkdirSync(OUT_DIR, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: OUT_DIR,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    // The library notices (MIT) go at the end of the file, not dropped.
    legalComments: "eof",
    logLevel: "warning",
  });
  const sizes = {};
  for (const name of Object.keys(ENTRIES)) {
    sizes[name] = statSync(`${OUT_DIR}/${name}.js`).size;
    if (!quiet) console.log(`pages: /static/${name}.js ${(sizes[name] / 1024).toFixed(1)} KiB`);
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildPages();
