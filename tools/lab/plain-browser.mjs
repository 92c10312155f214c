// @ts-check
// A browser with JavaScript off, in a few dozen lines: what a person's browser does with the authorization
// pages when no script runs. It follows redirects (Location), keeps cookies (one jar, as RFC 6265 keys
// them: by host, not port; Path and Max-Age/Expires honoured), waits out `<meta http-equiv="refresh">`
// and the `Refresh` header, and submits HTML forms. Nothing else: no script, no SameSite (every hop here
// is same-site loopback), no cache.
//
// Used by the e2e wallet flow (test/e2e/wallet-flow.mjs) and the surge lab's authorization-code
// population (tools/surge.mjs --flow authorization_code): the authorization step of a wallet's flow is
// the person's browser, and this is the plainest one that must still get through.

/**
 * One page as the browser saw it.
 * @typedef {{ url: string, status: number, headers: Headers, text: string }} Page
 */

/**
 * A form on a page: where it goes and the fields it would send as they stand.
 * @typedef {{ action: string, method: string, fields: Array<[string, string]> }} Form
 */

/** @param {string} s */
const decodeEntities = (s) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
    const k = String(e).toLowerCase();
    if (k.startsWith("#x")) return String.fromCodePoint(Number.parseInt(k.slice(2), 16));
    if (k.startsWith("#")) return String.fromCodePoint(Number(k.slice(1)));
    return /** @type {Record<string, string>} */ ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[k] ?? m;
  });

/**
 * The attributes of one tag, lower-cased names, decoded values.
 * @param {string} tag
 * @returns {Record<string, string>}
 */
function attributes(tag) {
  /** @type {Record<string, string>} */
  const out = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const inner = tag.replace(/^<\s*[\w-]+/, "").replace(/\/?>$/, "");
  for (let m = re.exec(inner); m; m = re.exec(inner)) {
    const name = (m[1] ?? "").toLowerCase();
    if (!(name in out)) out[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return out;
}

/**
 * The forms of an HTML page, resolved against its URL. Inputs (text, hidden, checked boxes/radios),
 * selects (the selected option, else the first), textareas; submit buttons are not fields.
 * @param {string} html
 * @param {string} pageUrl
 * @returns {Form[]}
 */
export function formsOf(html, pageUrl) {
  /** @type {Form[]} */
  const forms = [];
  for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)) {
    const open = /^<form\b[^>]*>/i.exec(m[0])?.[0] ?? "";
    const a = attributes(open);
    const body = m[1] ?? "";
    /** @type {Array<[string, string]>} */
    const fields = [];
    for (const t of body.matchAll(/<(input|select|textarea)\b[^>]*>(?:([\s\S]*?)<\/\1>)?/gi)) {
      const kind = (t[1] ?? "").toLowerCase();
      const attrs = attributes(/^<[^>]*>/.exec(t[0])?.[0] ?? "");
      const name = attrs.name;
      if (!name || "disabled" in attrs) continue;
      if (kind === "input") {
        const type = (attrs.type ?? "text").toLowerCase();
        if (["submit", "button", "image", "reset", "file"].includes(type)) continue;
        if ((type === "checkbox" || type === "radio") && !("checked" in attrs)) continue;
        fields.push([name, attrs.value ?? (type === "checkbox" || type === "radio" ? "on" : "")]);
      } else if (kind === "select") {
        const options = [...(t[2] ?? "").matchAll(/<option\b([^>]*)>([\s\S]*?)(?=<option\b|<\/select>|$)/gi)].map((o) => {
          const oa = attributes(`<option ${o[1] ?? ""}>`);
          return { value: oa.value ?? decodeEntities((o[2] ?? "").replace(/<[^>]*>/g, "").trim()), selected: "selected" in oa };
        });
        const chosen = options.find((o) => o.selected) ?? options[0];
        if (chosen) fields.push([name, chosen.value]);
      } else fields.push([name, decodeEntities(t[2] ?? "")]);
    }
    forms.push({ action: new URL(a.action || pageUrl, pageUrl).href, method: (a.method || "get").toLowerCase(), fields });
  }
  return forms;
}

/**
 * The refresh a page asks for, from the `Refresh` header or `<meta http-equiv="refresh">`: seconds and URL.
 * @param {Page} page
 * @returns {{ seconds: number, url: string } | null}
 */
export function refreshOf(page) {
  let content = page.headers.get("refresh");
  if (!content) {
    for (const m of page.text.matchAll(/<meta\b[^>]*>/gi)) {
      const a = attributes(m[0]);
      if ((a["http-equiv"] ?? "").toLowerCase() === "refresh" && a.content !== undefined) {
        content = a.content;
        break;
      }
    }
  }
  if (!content) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:[;,]\s*(?:url\s*=\s*)?['"]?([^'"]*)['"]?)?\s*$/i.exec(content);
  if (!m) return null;
  return { seconds: Number(m[1]), url: new URL(m[2] || page.url, page.url).href };
}

export class PlainBrowser {
  /**
   * @param {{ fetch?: typeof fetch, maxRedirects?: number, log?: (line: string) => void }} [options]
   */
  constructor({ fetch: f = fetch, maxRedirects = 20, log = () => {} } = {}) {
    this.fetch = f;
    this.maxRedirects = maxRedirects;
    this.log = log;
    /** @type {Map<string, { name: string, value: string, host: string, path: string, expires: number }>} */
    this.jar = new Map();
    /** Every URL requested, in order (redirects included). @type {string[]} */
    this.history = [];
  }

  /**
   * The Cookie header for a URL.
   * @param {URL} url
   */
  cookieHeader(url) {
    const now = Date.now();
    const pairs = [];
    for (const [key, c] of this.jar) {
      if (c.expires <= now) {
        this.jar.delete(key);
        continue;
      }
      const inPath = url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`);
      if (c.host === url.hostname && inPath) pairs.push(`${c.name}=${c.value}`);
    }
    return pairs.join("; ");
  }

  /**
   * Stores a response's Set-Cookie headers.
   * @param {URL} url
   * @param {Headers} headers
   */
  storeCookies(url, headers) {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, "") || "/";
      let expires = Number.POSITIVE_INFINITY;
      for (const attr of attrs) {
        const [k = "", ...v] = attr.split("=");
        const key = k.trim().toLowerCase();
        const val = v.join("=").trim();
        if (key === "path" && val.startsWith("/")) path = val;
        else if (key === "max-age" && /^-?\d+$/.test(val)) expires = Date.now() + Number(val) * 1000;
        else if (key === "expires" && expires === Number.POSITIVE_INFINITY && !Number.isNaN(Date.parse(val))) expires = Date.parse(val);
      }
      const id = `${url.hostname}|${path}|${name}`;
      if (expires <= Date.now()) this.jar.delete(id);
      else this.jar.set(id, { name, value, host: url.hostname, path, expires });
    }
  }

  /**
   * One request and its redirects. Stops (without requesting it) at a URL `stopAt` accepts: the wallet's
   * redirect_uri, which is the wallet's to handle, not the browser's.
   * @param {string} url
   * @param {{ method?: string, body?: string, headers?: Record<string, string>, stopAt?: (url: string) => boolean }} [init]
   * @returns {Promise<Page>}
   */
  async request(url, { method = "GET", body, headers = {}, stopAt = () => false } = {}) {
    let current = url;
    let m = method;
    let b = body;
    for (let hop = 0; hop <= this.maxRedirects; hop++) {
      if (stopAt(current)) return { url: current, status: 0, headers: new Headers(), text: "" };
      const u = new URL(current);
      const cookie = this.cookieHeader(u);
      this.history.push(`${m} ${current}`);
      const res = await this.fetch(current, {
        method: m,
        body: b,
        redirect: "manual",
        headers: {
          accept: "text/html,application/xhtml+xml",
          "accept-language": "fr-FR,fr;q=0.9,en;q=0.8",
          ...(b !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
        signal: AbortSignal.timeout(30_000),
      });
      this.storeCookies(u, res.headers);
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        this.log(`${res.status} → ${location}`);
        current = new URL(location, current).href;
        // 307/308 keep the method and body; 301/302/303 become a GET, as browsers do.
        if (res.status !== 307 && res.status !== 308) {
          m = "GET";
          b = undefined;
        }
        continue;
      }
      return { url: current, status: res.status, headers: res.headers, text: await res.text() };
    }
    throw new Error(`more than ${this.maxRedirects} redirects from ${url}`);
  }

  /**
   * Submits the first form of `page`, with `fill` over its fields.
   * @param {Page} page
   * @param {{ fill?: Record<string, string>, stopAt?: (url: string) => boolean }} [options]
   */
  submit(page, { fill = {}, stopAt } = {}) {
    const form = formsOf(page.text, page.url)[0];
    if (!form) throw new Error(`no form to submit on ${page.url} (${page.status}): ${page.text.slice(0, 300)}`);
    const fields = form.fields.filter(([name]) => !(name in fill));
    for (const [name, value] of Object.entries(fill)) fields.push([name, value]);
    const encoded = new URLSearchParams(fields).toString();
    if (form.method === "post") return this.request(form.action, { method: "POST", body: encoded, stopAt });
    const target = new URL(form.action);
    target.search = encoded;
    return this.request(target.href, { stopAt });
  }
}

/**
 * What the person's browser sees between the wallet's authorization request and the redirect back to the
 * wallet, counted: waiting pages (a page that refreshes itself), forms submitted (the identity step),
 * requests by host.
 * @typedef {{ waiting_pages: number, forms: number, requests: number, pages: string[] }} AuthorizationWalk
 */

/**
 * The authorization step of a wallet's flow, with JavaScript off: open the authorization URL, wait on
 * the waiting page (its refreshes), sign in on the identity provider's form (`fill` over its fields),
 * and stop at the wallet's redirect URI. `fill` applies to the fields a form has (a person types into the
 * boxes the page shows), so one `fill` can name the fields of several identity providers' forms. A page
 * that neither refreshes nor has a form ends the walk with an error naming it. Returns the redirect URL
 * and what was seen.
 * @param {PlainBrowser} browser
 * @param {string} authorizationUrl
 * @param {{ redirectUri: string, fill: Record<string, string>, deadline: number, maxForms?: number, onPage?: (page: Page, walk: AuthorizationWalk) => void | Promise<void> }} options
 * @returns {Promise<{ redirectedTo: string, walk: AuthorizationWalk }>}
 */
export async function walkAuthorization(browser, authorizationUrl, { redirectUri, fill, deadline, maxForms = 4, onPage = () => {} }) {
  const stopAt = (/** @type {string} */ url) => url.startsWith(redirectUri);
  /** @type {AuthorizationWalk} */
  const walk = { waiting_pages: 0, forms: 0, requests: 0, pages: [] };
  const first = browser.history.length;
  let page = await browser.request(authorizationUrl, { stopAt });
  for (;;) {
    walk.requests = browser.history.length - first;
    if (page.status === 0) return { redirectedTo: page.url, walk };
    walk.pages.push(`${page.status} ${page.url.replace(/\?.*$/, "")}`);
    await onPage(page, walk);
    if (Date.now() > deadline) throw new Error(`authorization not done at the deadline; last page ${page.status} ${page.url}`);
    const refresh = refreshOf(page);
    if (refresh) {
      walk.waiting_pages++;
      await new Promise((r) => setTimeout(r, Math.min(refresh.seconds * 1000, 2_000)));
      page = await browser.request(refresh.url, { stopAt });
      continue;
    }
    const form = formsOf(page.text, page.url)[0];
    if (form && walk.forms < maxForms) {
      walk.forms++;
      // Only the fields the form has: a person types into the boxes the page shows.
      const present = new Set(form.fields.map(([name]) => name));
      page = await browser.submit(page, { fill: Object.fromEntries(Object.entries(fill).filter(([k]) => present.has(k))), stopAt });
      continue;
    }
    throw new Error(`stuck on ${page.status} ${page.url}: ${page.text.replace(/\s+/g, " ").slice(0, 400)}`);
  }
}
