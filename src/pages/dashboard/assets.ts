import { DASHBOARD_CSS } from "./styles";

/**
 * The dashboard's stylesheet at a content-addressed path (`dashboard.<hash>.css`): a deploy that changes
 * it changes the path, so browsers may cache it forever (`immutable`). FNV-1a is enough to tell versions
 * apart (it is not a security boundary: the CSP's 'self' is).
 *
 * The script is not here: it is TypeScript in src/pages/browser/dashboard.ts, bundled by
 * tools/build-pages.mjs and served by Workers Static Assets at DASHBOARD_SCRIPT, like the waiting page's
 * (the Worker never holds its text, so it cannot hash it). The CSP's `script-src 'self'` allows that
 * path; Static Assets answer it with an ETag and `must-revalidate`, so a page never runs a stale script
 * against a newer API either.
 */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export interface Asset {
  readonly path: string;
  readonly body: string;
  readonly contentType: string;
}

const asset = (name: string, ext: string, body: string, contentType: string): Asset => ({
  path: `/admin/assets/${name}.${fnv1a(body)}.${ext}`,
  body,
  contentType,
});

/** Served path of the dashboard's script bundle (tools/build-pages.mjs, entry `dashboard`). */
export const DASHBOARD_SCRIPT = "/static/dashboard.js";

export const ASSETS = {
  css: asset("dashboard", "css", DASHBOARD_CSS, "text/css; charset=utf-8"),
} as const;

export function assetAt(path: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.path === path);
}
