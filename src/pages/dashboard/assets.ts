import { DASHBOARD_JS } from "./client-script";
import { DASHBOARD_CSS } from "./styles";

/**
 * The dashboard's script and stylesheet at content-addressed paths (`dashboard.<hash>.js`): a deploy
 * that changes them changes the path, so browsers may cache them forever (`immutable`), and the page
 * never runs a stale script against a newer API. FNV-1a is enough to tell versions apart (it is not a
 * security boundary: the CSP's 'self' is).
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

export const ASSETS = {
  js: asset("dashboard", "js", DASHBOARD_JS, "text/javascript; charset=utf-8"),
  css: asset("dashboard", "css", DASHBOARD_CSS, "text/css; charset=utf-8"),
} as const;

export function assetAt(path: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.path === path);
}
