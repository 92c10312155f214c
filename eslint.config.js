// ESLint (flat config): eslint's and typescript-eslint's recommended rules, plus the few that catch real
// mistakes here (docs/contributing.md). Not type-aware: the type-aware presets took ~4× as long on this
// 2-core machine for little more than tsc already reports (`npm test` runs `tsc` anyway).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "dist/", "reports/", ".wrangler/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // One import statement per module, types included (`import { x, type T }`): two of them for one
      // module is how a merge ends up importing it twice. Re-exports (`export … from`) are not imports.
      "no-duplicate-imports": ["error", { allowSeparateTypeImports: false }],
      // `interface Env extends AntichambreEnv {}` is how a global interface is augmented.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // The house width. Prettier wraps code to it but not comments, and strings stay whole (a test's name,
      // a message: grep finds them).
      // JSDoc types in the tools are code that prettier does not wrap: a tag line (@type, @typedef, @param,
      // @returns) and a type laid out over indented continuation lines are exempt; prose comments are not.
      "max-len": [
        "error",
        {
          code: 140,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
          ignorePattern: "@(type|typedef|param|returns)\\b|^\\s*\\*\\s{3,}",
        },
      ],
      // A leading underscore marks a parameter a signature needs but the body does not.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  // Issue 14 item 7: the admission logic (the coordinator's tick and store among it) calls no fault code;
  // the fault points reach it only as wrappers RoomCoordinator's constructor puts around its ports.
  {
    files: ["src/admission/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [{ group: ["**/faults/*"], message: "fault points wrap the tick's ports at the object's edge (src/faults/points.ts)" }],
        },
      ],
    },
  },
  // Tests read a black-box API's JSON bodies: `any` there is the honest type, and each assertion checks it.
  {
    files: ["test/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  // Node-side scripts: tools, the end-to-end, build and browser runners, configs.
  {
    files: ["**/*.mjs", "**/*.js", "vitest.config.ts"],
    languageOptions: { globals: { ...globals.node } },
  },
  // The browser runner's page.evaluate callbacks run in the page.
  {
    files: ["test/browser/**"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
