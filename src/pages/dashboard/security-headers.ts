/**
 * Headers for every dashboard page: a CSP that allows this origin's script and stylesheet only (no
 * inline code, so an injected string cannot run), no framing (clickjacking the pause button), no
 * referrer to other sites, no caching of pages that show live operational data.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": DASHBOARD_CSP,
  "cache-control": "no-store",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  // Not no-referrer: under it browsers send `Origin: null` on same-origin POSTs, and the login, logout
  // and admin API checks need the real origin. same-origin still sends nothing to other sites.
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

export const ASSET_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "public, max-age=31536000, immutable",
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": DASHBOARD_CSP,
};
