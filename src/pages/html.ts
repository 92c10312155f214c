/**
 * HTML built from template literals where every interpolated value is escaped unless it is already
 * `Html` (the output of `html` itself, or `raw` for markup we produced ourselves, like the QR code SVG).
 * Escaping by default means forgetting is safe: a room name or a problem detail can never become markup.
 *
 * Shared by the Worker (whole pages) and the browser bundle (the status region it re-renders).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe inside element content and inside quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup that is trusted as is: only for strings this code generated, never for input. */
export function raw(markup: string): Html {
  return new Html(markup);
}
