import { html, raw, type Html } from "./html";
import { LANGS, STRINGS, type Lang } from "./i18n";
import { PAGE_CSS } from "./styles";

/**
 * The HTML shell every public page shares, and the security headers that go with it.
 *
 * The Content-Security-Policy allows scripts from this origin only (the one bundle, never inline),
 * the inline stylesheet by a per-response nonce, images from data: (nothing else), and fetches to this
 * origin (the API the bundle calls). No framing, no <base>, forms post here only.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** 128 random bits, base64url: a fresh style nonce per response. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Headers for every page response; pages rendered from a ticket also say no-store (they carry it). */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(nonce),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // The page depends on the language header and on the ticket cookie; it carries a ticket's status.
    vary: "accept-language, cookie",
    "cache-control": "no-store",
  };
}

export interface ShellInput {
  lang: Lang;
  title: string;
  nonce: string;
  /** Extra <head> content: the script tag, the no-JavaScript refresh. */
  head?: Html;
  body: Html;
}

/** The language switch: a plain link to this page in each other language (works without JavaScript). */
function languageSwitch(lang: Lang): Html {
  const others = LANGS.filter((l) => l !== lang);
  return html`<nav aria-label="${STRINGS[lang].switchLabel}"><ul>${others.map(
    (l) => html`<li><a href="?lang=${l}" hreflang="${l}" lang="${l}" id="lang-${l}">${STRINGS[l].langName}</a></li>`,
  )}</ul></nav>`;
}

export function renderShell({ lang, title, nonce, head, body }: ShellInput): string {
  return `<!doctype html>\n${html`<html lang="${lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${raw(PAGE_CSS)}</style>
${head}
</head>
<body>
<header><span class="brand">${STRINGS[lang].siteName}</span>${languageSwitch(lang)}</header>
${body}
</body>
</html>
`}`;
}
