import { html, type Html } from "./html";
import { formatDateTime, formatNumber, formatTime, formatWaitRange, STRINGS, type Lang, type RoomStateName } from "./i18n";
import { qrSvg } from "./qr-svg";
import { waitRange } from "./wait-range";

/**
 * The status region of the waiting page, rendered from the API's own JSON: the server renders it from
 * the poll answer of a cookie-held ticket (or the public room view), the browser re-renders it from the
 * client SDK's answers. One renderer, so JavaScript and no-JavaScript visitors read the same thing.
 */

/** A ticket's status as the poll endpoint answers it (the fields the page shows). */
export type TicketView =
  /**
   * `position` is null for an event's pre-queue entrant until the lottery draw (`lottery_at`), and for a
   * place re-joined from another device until the room counts it (a tick).
   */
  | { status: "waiting"; position: number | null; estimated_wait_seconds: number | null; lottery_at?: string }
  | {
      status: "admitted";
      /** `handoff`: the offer by reference for a wallet on another device, fresh on every answer, until `expires_at`. */
      admission: { credential_offer_uri: string; handoff?: { credential_offer_uri: string; expires_at: string } };
      admission_expires_at: string;
    }
  | { status: "expired" };

/** The public room view (`GET /v1/rooms/{room}`), for someone who holds no ticket. */
export interface RoomView {
  state: RoomStateName;
  waiting: number;
  admitted_per_minute: number;
  estimated_wait_seconds: number | null;
  /** A scheduled event (pre-queue and lottery), when the room has one. */
  event?: { phase: string; prequeue_start: string; event_start: string };
}

export type StatusView = TicketView | { status: "public"; room: RoomView };

/** `timeZone`: the server renders times for France (it cannot know the visitor's zone); the browser passes none. */
export interface RenderOptions {
  lang: Lang;
  timeZone?: string;
}

/** The heading every state starts with: focus moves to it when the state changes under the visitor's hands. */
function heading(text: string): Html {
  return html`<h2 id="status-heading" tabindex="-1">${text}</h2>`;
}

export function renderStatus(view: StatusView, { lang, timeZone }: RenderOptions): Html {
  const t = STRINGS[lang];
  switch (view.status) {
    case "waiting":
      if (view.position === null && view.lottery_at) {
        return html`${heading(t.prequeueTitle)}
<p id="prequeue">${t.prequeueText(formatDateTime(lang, Date.parse(view.lottery_at), timeZone))}</p>`;
      }
      if (view.position === null) {
        return html`${heading(t.yourPlace)}
<p id="counting">${t.countingText}</p>`;
      }
      return html`${heading(t.yourPlace)}
<p class="position"><span class="position-number" id="position">${formatNumber(lang, view.position)}</span> <span id="position-line">${t.positionLine(view.position)}</span></p>
<p id="ahead">${t.aheadLine(Math.max(0, view.position - 1))}</p>
<p class="wait"><span>${t.waitLabel}</span> <strong id="wait">${formatWaitRange(lang, waitRange(view.estimated_wait_seconds))}</strong></p>`;
    case "admitted": {
      const until = formatTime(lang, Date.parse(view.admission_expires_at), timeZone);
      // A wallet is another key than this browser's: the page offers the handoff offer (src/issuance/
      // handoff.ts), which the wallet redeems once this page approves the code it shows.
      const handoff = view.admission.handoff;
      const link = handoff?.credential_offer_uri ?? view.admission.credential_offer_uri;
      return html`${heading(t.admittedTitle)}
<p id="admitted-until">${t.admittedUntil(until)}</p>
<p><a class="button" id="open-app" href="${link}">${t.openApp}</a></p>
<p class="hint">${t.openAppHint}</p>
<h3>${t.scanTitle}</h3>
<figure class="qr-box" id="offer-figure"${handoff ? html` data-expires-at="${handoff.expires_at}"` : ""}>${offerQr(link, lang)}</figure>
${handoff ? approvalForm(lang) : html``}`;
    }
    case "expired":
      return html`${heading(t.expiredTitle)}
<p>${t.expiredText}</p>`;
    case "public": {
      const r = view.room;
      if (r.event?.phase === "before") {
        // Joins are refused until the pre-queue opens: the page says when, and tells no newcomer's wait
        // (there is no place to wait in yet).
        return html`${heading(t.prequeueClosedTitle)}
<p id="prequeue-opens">${t.prequeueClosedText(formatDateTime(lang, Date.parse(r.event.prequeue_start), timeZone))}</p>
<p id="waiting-count">${t.waitingCount(r.waiting)}</p>
${eventLine(r, { lang, timeZone })}`;
      }
      return html`${heading(t.publicTitle)}
<p><span>${t.stateLabel}</span> <strong id="room-state">${t.states[r.state]}</strong></p>
<p id="waiting-count">${t.waitingCount(r.waiting)}</p>
<p id="admission-rate">${t.rateLine(r.admitted_per_minute)}</p>
<p class="wait"><span>${t.newcomerWait}</span> <strong id="wait">${formatWaitRange(lang, waitRange(r.estimated_wait_seconds))}</strong></p>
${eventLine(r, { lang, timeZone })}`;
    }
  }
}

/** The QR code of an offer link; the page's script redraws it with a fresh link before this one expires. */
export function offerQr(link: string, lang: Lang): Html {
  return qrSvg(link, { id: "offer-qr", title: STRINGS[lang].qrTitle });
}

/**
 * Approving the wallet that scanned the QR code: the person types the code their wallet shows. The
 * request must be signed by this browser's device key (IndexedDB), so the form needs the page's script:
 * rendered hidden, shown by the script; without JavaScript a note says so (a cookie ticket alone must
 * never approve a wallet: it is exactly what a copied ticket is).
 */
function approvalForm(lang: Lang): Html {
  const t = STRINGS[lang];
  return html`<form id="approve-wallet" class="approve" hidden>
<label for="confirmation-code">${t.approveLabel}</label>
<input id="confirmation-code" name="confirmation_code" required minlength="6" maxlength="9" autocomplete="off" autocapitalize="characters" spellcheck="false" aria-describedby="confirmation-hint">
<p id="confirmation-hint" class="hint">${t.approveHint}</p>
<button type="submit" id="approve-button">${t.approveSubmit}</button>
<p id="approve-result" role="status"></p>
</form>
<noscript><p class="hint" id="approve-noscript">${t.approveNoscript}</p></noscript>`;
}

/** Before and during an event's pre-queue, when the draw is: arriving early then gains nothing. */
function eventLine(r: RoomView, { lang, timeZone }: RenderOptions): Html {
  const e = r.event;
  if (!e || (e.phase !== "before" && e.phase !== "prequeue")) return html``;
  const t = STRINGS[lang];
  const draw = formatDateTime(lang, Date.parse(e.event_start), timeZone);
  const text =
    e.phase === "before" ? t.eventBefore(formatDateTime(lang, Date.parse(e.prequeue_start), timeZone), draw) : t.eventPrequeue(draw);
  return html`<p id="event">${text}</p>`;
}

/**
 * How far the person has come since joining: places moved up out of their position at join. Admitted
 * is the whole way. Positions only go down, but a larger one (a restarted count) widens the start.
 */
export function progressOf(startPosition: number | null, view: TicketView): { moved: number; total: number } | null {
  if (view.status === "expired" || (view.status === "waiting" && view.position === null)) return null;
  const position = view.status === "waiting" ? (view.position ?? 0) : 0;
  const start = Math.max(startPosition ?? position, position, 1);
  return { moved: start - position, total: start };
}

export function renderProgress(progress: { moved: number; total: number } | null, { lang }: RenderOptions): Html {
  if (!progress) return html``;
  const t = STRINGS[lang];
  const percent = Math.round((100 * progress.moved) / progress.total);
  const text = `${t.progressText(progress.moved, progress.total)} (${formatNumber(lang, percent)} %)`;
  return html`<label for="progress-bar">${t.progressLabel}</label>
<progress id="progress-bar" max="${progress.total}" value="${progress.moved}">${text}</progress>
<p class="progress-text" id="progress-text">${text}</p>`;
}

export function renderUpdated(at: number, { lang, timeZone }: RenderOptions): Html {
  return html`${STRINGS[lang].updatedLabel} <time id="updated-time" datetime="${new Date(at).toISOString()}">${formatTime(lang, at, timeZone)}</time>`;
}
