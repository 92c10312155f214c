/** Types for build-pages.mjs, imported by vitest.config.ts (TypeScript does not read the .mjs). */
export function buildPages(options?: { quiet?: boolean }): Promise<Record<string, number>>;
