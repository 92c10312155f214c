import { renderShell } from "./document";
import { html, type Html } from "./html";
import { STRINGS, type Lang } from "./i18n";
import { progressOf, renderProgress, renderStatus, renderUpdated, type StatusView } from "./status-view";

/** Where the browser bundle is served from (Workers Static Assets; built by tools/build-pages.mjs). */
export const WAITING_PAGE_SCRIPT = "/static/waiting-page.js";
/** With no ticket, how often the page refreshes without JavaScript (the public view changes slowly). */
export const PUBLIC_REFRESH_SECONDS = 30;
/** France: the server cannot know the visitor's zone; the script re-renders times in the visitor's own. */
export const SERVER_TIME_ZONE = "Europe/Paris";

export interface WaitingPageInput {
  lang: Lang;
  room: string;
  nonce: string;
  view: StatusView;
  /** Position at join (from the cookie), for the progress bar. */
  start: number | null;
  /** When the status was read (ms). */
  updatedAt: number;
  /** Seconds until the no-JavaScript refresh; null: no refresh (admitted, expired: nothing will change by itself). */
  refreshSeconds: number | null;
  /** ENVIRONMENT=development: the demo-person form is rendered (hidden until the script shows it). */
  development: boolean;
  /** A suggested demo person for the form. */
  demoPersonId: string;
}

export function renderWaitingPage(input: WaitingPageInput): string {
  const { lang, room, nonce, view } = input;
  const t = STRINGS[lang];
  const options = { lang, timeZone: SERVER_TIME_ZONE };
  const holdsPlace = view.status === "waiting" || view.status === "admitted";
  const refresh = input.refreshSeconds;
  const head = html`<script type="module" src="${WAITING_PAGE_SCRIPT}"></script>
${refresh !== null ? html`<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>` : ""}`;
  const progress = view.status === "public" ? null : progressOf(input.start, view);
  const body = html`<main id="main" data-room="${room}" data-lang="${lang}" data-development="${input.development ? "true" : "false"}">
<h1>${t.heading(room)}</h1>
<p>${t.intro}</p>
<section id="status-card" class="card${view.status === "admitted" ? " admitted" : ""}" aria-labelledby="status-heading">
<div id="status" aria-live="polite" data-status="${view.status}">${renderStatus(view, options)}</div>
<div id="progress">${renderProgress(progress, options)}</div>
<p id="updated">${renderUpdated(input.updatedAt, options)}</p>
<p class="hint" id="wait-note"${view.status === "admitted" || view.status === "expired" ? html` hidden` : ""}>${t.waitNote} ${t.keepOpen}</p>
</section>
<p id="notice" class="notice" role="status"></p>
${joinSection(input, holdsPlace)}
${refresh !== null ? html`<noscript><p class="hint" id="noscript-refresh">${t.noscriptRefresh(refresh)}</p></noscript>` : ""}
</main>`;
  return renderShell({ lang, title: t.title(room), nonce, head, body });
}

/**
 * How to take a place. In production the identity app opens this page with the assertion in the
 * fragment (`#identity_assertion=…`), so the page only says where to come from. In development a form
 * picks a demo person; it is hidden until the script runs (joining needs WebCrypto for the DPoP key).
 */
function joinSection(input: WaitingPageInput, holdsPlace: boolean): Html {
  const t = STRINGS[input.lang];
  return html`<section id="join" class="card" aria-labelledby="join-heading"${holdsPlace ? html` hidden` : ""}>
<h2 id="join-heading">${t.joinTitle}</h2>
${
  input.development
    ? html`<form id="dev-join" hidden>
<fieldset>
<legend>${t.devLegend}</legend>
<label for="person-id">${t.devLabel}</label>
<input id="person-id" name="person_id" value="${input.demoPersonId}" required maxlength="128" autocomplete="off" spellcheck="false" aria-describedby="person-id-hint">
<p id="person-id-hint" class="hint">${t.devHint}</p>
<button type="submit" id="join-button">${t.devSubmit}</button>
</fieldset>
</form>`
    : html`<p id="join-from-app">${t.joinFromApp}</p>`
}
<noscript><p>${t.noscriptJoin}</p></noscript>
</section>`;
}

/** Unknown room (or a name no room can have): 404, in the visitor's language, naming what was asked. */
export function renderNotFoundPage(input: { lang: Lang; nonce: string; room: string }): string {
  const t = STRINGS[input.lang];
  return renderShell({
    lang: input.lang,
    title: t.notFoundTitle,
    nonce: input.nonce,
    body: html`<main id="main">
<h1>${t.notFoundTitle}</h1>
<p id="not-found">${t.notFoundText(input.room)}</p>
</main>`,
  });
}

/** The room's state could not be read (a retryable 503): the page comes back by itself. */
export function renderUnavailablePage(input: { lang: Lang; nonce: string; retryAfterSeconds: number }): string {
  const t = STRINGS[input.lang];
  return renderShell({
    lang: input.lang,
    title: t.unavailableTitle,
    nonce: input.nonce,
    head: html`<meta http-equiv="refresh" content="${input.retryAfterSeconds}">`,
    body: html`<main id="main">
<h1>${t.unavailableTitle}</h1>
<p>${t.unavailableText(input.retryAfterSeconds)}</p>
</main>`,
  });
}
