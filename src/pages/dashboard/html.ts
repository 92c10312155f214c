import { ASSETS, DASHBOARD_SCRIPT } from "./assets";

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/**
 * The shell every dashboard page shares: the stylesheet and, when asked, the script (a module, so
 * deferred: it runs once the skeleton it fills in is parsed).
 */
export function layout(options: { title: string; body: string; bodyAttributes?: string; script?: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${ASSETS.css.path}">
${options.script ? `<script type="module" src="${DASHBOARD_SCRIPT}"></script>\n` : ""}</head>
<body${options.bodyAttributes ? ` ${options.bodyAttributes}` : ""}>
${options.body}
</body>
</html>
`;
}
