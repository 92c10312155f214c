import { decodeJwt } from "jose";
import {
  AdmissionExpiredError,
  AntichambreClient,
  AntichambreError,
  CredentialDeniedError,
  DeviceKey,
  MemoryKeyPairStore,
  type TicketStatus,
} from "../../../client/index";
import { setCookieValue, START_COOKIE, TICKET_COOKIE } from "../cookies";
import { formatDateTime, isLang, STRINGS } from "../i18n";
import { offerQr, progressOf, renderProgress, renderStatus, renderUpdated, type StatusView } from "../status-view";
import { indexedDbKeyPairStore } from "./key-store";

/**
 * The waiting page's script (bundled by tools/build-pages.mjs, served as /static/waiting-page.js).
 *
 * It takes over from the server-rendered page: keeps the device key (IndexedDB, non-extractable),
 * joins with an identity assertion (from the identity app in the URL fragment, or in development from
 * the demo form), then polls through the client SDK when the service says to, re-rendering the status
 * with the same renderer the server used. The ticket goes into a cookie too, so that a reload, or a
 * browser without JavaScript, gets the same status rendered by the server.
 */

const PUBLIC_REFRESH_MS = 30_000;
const RESUME_AFTER_ERROR_MS = 30_000;
/** The QR code's offer reference is redrawn this long before it expires (a phone may be mid-scan). */
const OFFER_RENEW_BEFORE_MS = 20_000;
/** Bounds on that wait, whatever the two clocks say (the page's may be off). */
const OFFER_RENEW_MIN_MS = 5_000;
const OFFER_RENEW_MAX_MS = 100_000;

const main = document.getElementById("main")!;
const room = main.dataset.room!;
const lang = isLang(main.dataset.lang) ? main.dataset.lang : "fr";
const development = main.dataset.development === "true";
const t = STRINGS[lang];
const options = { lang };
const baseTitle = document.title;

const el = {
  card: document.getElementById("status-card")!,
  status: document.getElementById("status")!,
  progress: document.getElementById("progress")!,
  updated: document.getElementById("updated")!,
  waitNote: document.getElementById("wait-note")!,
  notice: document.getElementById("notice")!,
  join: document.getElementById("join")!,
  form: document.getElementById("dev-join") as HTMLFormElement | null,
  person: document.getElementById("person-id") as HTMLInputElement | null,
  button: document.getElementById("join-button") as HTMLButtonElement | null,
};

// ---- ticket and progress storage --------------------------------------------------------------------

function readCookie(name: string): string | null {
  const entry = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return entry ? entry.slice(name.length + 1) || null : null;
}

function writeCookie(name: string, value: string, maxAgeSeconds: number): void {
  document.cookie = setCookieValue(name, value, { room, maxAgeSeconds, secure: location.protocol === "https:" });
}

/** localStorage key of the position at join, per room; the value names the ticket it belongs to. */
const startKey = `antichambre:${room}:start`;

function ticketId(ticket: string): string {
  return String(decodeJwt(ticket).sub ?? "");
}

function loadStart(ticket: string): number | null {
  try {
    const saved = JSON.parse(localStorage.getItem(startKey) ?? "null") as { ticket?: string; position?: number } | null;
    return saved?.ticket === ticketId(ticket) && typeof saved.position === "number" ? saved.position : null;
  } catch {
    return null;
  }
}

function keepTicket(ticket: string, position: number | null): void {
  const { exp } = decodeJwt(ticket);
  const maxAge = typeof exp === "number" ? exp - Math.floor(Date.now() / 1000) : 86_400;
  writeCookie(TICKET_COOKIE, ticket, maxAge);
  if (position !== null && loadStart(ticket) === null) {
    try {
      localStorage.setItem(startKey, JSON.stringify({ ticket: ticketId(ticket), position }));
    } catch {
      // Storage full or forbidden: the progress bar then starts from the current position.
    }
    writeCookie(START_COOKIE, String(position), maxAge);
  }
}

function forgetTicket(): void {
  writeCookie(TICKET_COOKIE, "", 0);
  writeCookie(START_COOKIE, "", 0);
  try {
    localStorage.removeItem(startKey);
  } catch {
    // Nothing stored.
  }
}

// ---- rendering --------------------------------------------------------------------------------------

let shownStatus = "";

/** Re-renders the status. The live region is replaced only when its words change, so a screen reader hears changes, not every poll. */
function show(view: StatusView, start: number | null): void {
  const markup = renderStatus(view, options).value;
  if (markup !== shownStatus) {
    el.status.innerHTML = markup;
    el.status.dataset.status = view.status;
    shownStatus = markup;
  }
  el.progress.innerHTML = view.status === "public" ? "" : renderProgress(progressOf(start, view), options).value;
  el.updated.innerHTML = renderUpdated(Date.now(), options).value;
  el.card.classList.toggle("admitted", view.status === "admitted");
  el.waitNote.hidden = view.status === "admitted" || view.status === "expired";
  el.join.hidden = view.status === "waiting" || view.status === "admitted";
  if (el.form) el.form.hidden = el.join.hidden;
  document.title = view.status === "admitted" ? `${t.admittedTitle} – ${baseTitle}` : baseTitle;
}

function notice(text: string): void {
  el.notice.textContent = text;
}

/** After the visitor's own action replaced what they were on (the form), focus goes to the new status. */
function focusStatus(): void {
  document.getElementById("status-heading")?.focus();
}

// ---- the service ------------------------------------------------------------------------------------

let devicePromise: Promise<DeviceKey> | null = null;

/** The device key, kept in IndexedDB; in memory where IndexedDB is unavailable (some private modes). */
function device(): Promise<DeviceKey> {
  devicePromise ??= DeviceKey.loadOrCreate(indexedDbKeyPairStore).catch(() => DeviceKey.loadOrCreate(new MemoryKeyPairStore()));
  return devicePromise;
}

async function client(ticket?: string): Promise<AntichambreClient> {
  return new AntichambreClient({
    baseUrl: location.origin,
    room,
    device: await device(),
    ...(ticket ? { ticket } : {}),
    retry: { maxAttempts: 8 },
    onRetry: () => notice(t.reconnecting),
    // A join before an event's pre-queue opens waits for the opening (the SDK does): say when.
    onPrequeueWait: ({ opensAt }) => notice(t.prequeueWait(formatDateTime(lang, Date.parse(opensAt)))),
  });
}

function describe(error: unknown): string {
  // A licence the register refuses (suspended, withdrawn, expired, none): said in the page's language.
  if (error instanceof CredentialDeniedError && error.licenceReason) return t.denied(error.licenceReason);
  if (error instanceof AntichambreError) return error.problem?.detail ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Waits for admission with the SDK (it polls when told), rendering every answer. */
async function follow(ticket: string): Promise<void> {
  const c = await client(ticket);
  let start = loadStart(ticket);
  const update = (status: TicketStatus) => {
    notice("");
    if (status.status === "waiting" && start === null && status.position !== null) {
      start = status.position;
      keepTicket(ticket, start);
    }
    show(status, start);
  };
  try {
    await c.waitUntilAdmitted({ onUpdate: update });
    handoffPanel(ticket);
  } catch (error) {
    if (error instanceof AdmissionExpiredError) {
      forgetTicket();
      show({ status: "expired" }, null);
      offerJoin();
      return;
    }
    if (error instanceof AntichambreError && error.status === 401) {
      // The ticket is no longer valid here (keys rotated, another room's): start over.
      forgetTicket();
      notice(t.joinFailed(describe(error)));
      offerJoin();
      return;
    }
    notice(t.joinFailed(describe(error)));
    setTimeout(() => void follow(ticket), RESUME_AFTER_ERROR_MS);
  }
}

async function join(identityAssertion: string): Promise<void> {
  notice(t.joining);
  const c = await client();
  const joined = await c.join(identityAssertion);
  const position = joined.status === "waiting" ? joined.position : null;
  keepTicket(joined.ticket, position);
  notice("");
  show(joined, loadStart(joined.ticket) ?? position);
  focusStatus();
  if (joined.status === "waiting") await follow(joined.ticket);
  else if (joined.status === "admitted") handoffPanel(joined.ticket);
}

// ---- admitted: the QR code for a wallet on another device, and its approval ---------------------------

let handoffTicket: string | null = null;
let renewTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Once admitted: shows the approval form (it needs this script: approvals are signed by the device key)
 * and keeps the QR code's offer reference fresh. A reference works once and for two minutes; a new one
 * comes with every poll, so one poll shortly before expiry redraws the code and the app link, and
 * nothing else on the page (the status region is not re-rendered: a screen reader hears no change).
 */
function handoffPanel(ticket: string): void {
  handoffTicket = ticket;
  const form = document.getElementById("approve-wallet");
  if (form) form.hidden = false;
  scheduleOfferRenewal();
}

function scheduleOfferRenewal(): void {
  if (renewTimer !== null) clearTimeout(renewTimer);
  const expiresAt = Date.parse(document.getElementById("offer-figure")?.dataset.expiresAt ?? "");
  if (!Number.isFinite(expiresAt)) return;
  const wait = Math.min(OFFER_RENEW_MAX_MS, Math.max(OFFER_RENEW_MIN_MS, expiresAt - Date.now() - OFFER_RENEW_BEFORE_MS));
  renewTimer = setTimeout(() => void renewOffer(), wait);
}

async function renewOffer(): Promise<void> {
  if (!handoffTicket) return;
  try {
    const status = await (await client(handoffTicket)).status();
    if (status.status === "expired") {
      forgetTicket();
      show(status, null);
      offerJoin();
      return;
    }
    const handoff = status.status === "admitted" ? status.admission.handoff : undefined;
    const figure = document.getElementById("offer-figure");
    if (handoff && figure) {
      figure.innerHTML = offerQr(handoff.credential_offer_uri, lang).value;
      figure.dataset.expiresAt = handoff.expires_at;
      document.getElementById("open-app")?.setAttribute("href", handoff.credential_offer_uri);
    }
  } catch {
    // Kept as it is; the next attempt comes at the minimum wait.
  }
  scheduleOfferRenewal();
}

async function approveWallet(event: Event): Promise<void> {
  const form = event.target as HTMLFormElement | null;
  if (form?.id !== "approve-wallet") return;
  event.preventDefault();
  const input = document.getElementById("confirmation-code") as HTMLInputElement | null;
  const button = document.getElementById("approve-button") as HTMLButtonElement | null;
  const result = document.getElementById("approve-result");
  const code = input?.value.trim() ?? "";
  if (!handoffTicket || !code || !result) return;
  if (button) button.disabled = true;
  try {
    await (await client(handoffTicket)).approveHandoff(code);
    result.textContent = t.approveDone;
    if (input) input.value = "";
  } catch (error) {
    result.textContent = t.approveFailed(describe(error));
    input?.focus();
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- no ticket: public view and ways to join -----------------------------------------------------------

let publicTimer: ReturnType<typeof setInterval> | null = null;

function offerJoin(): void {
  el.join.hidden = false;
  if (el.form && development) el.form.hidden = false;
  publicTimer ??= setInterval(() => void refreshPublic(), PUBLIC_REFRESH_MS);
}

async function refreshPublic(): Promise<void> {
  if (readCookie(TICKET_COOKIE)) return;
  try {
    show({ status: "public", room: await (await client()).roomInfo() }, null);
  } catch {
    // The next refresh tries again; the page keeps what it shows.
  }
}

function stopPublicRefresh(): void {
  if (publicTimer !== null) clearInterval(publicTimer);
  publicTimer = null;
}

async function joinAsDemoPerson(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const personId = el.person?.value.trim() ?? "";
  if (!personId) return;
  if (el.button) el.button.disabled = true;
  try {
    const res = await fetch("/v1/dev/identity-assertions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      // Bound to this browser's key (cnf.jkt), as a binding identity service would: useless elsewhere.
      body: JSON.stringify({ person_id: personId, jkt: (await device()).thumbprint }),
    });
    const body = (await res.json()) as { identity_assertion?: string; detail?: string };
    if (!res.ok || typeof body.identity_assertion !== "string") throw new Error(body.detail ?? `HTTP ${res.status}`);
    stopPublicRefresh();
    await join(body.identity_assertion);
  } catch (error) {
    notice(t.joinFailed(describe(error)));
  } finally {
    if (el.button) el.button.disabled = false;
  }
}

/** `#identity_assertion=…` from the identity app, removed from the address at once (it must not linger in history). */
function takeAssertionFromFragment(): string | null {
  const params = new URLSearchParams(location.hash.slice(1));
  const assertion = params.get("identity_assertion");
  if (assertion) history.replaceState(null, "", location.pathname + location.search);
  return assertion;
}

// ---- start --------------------------------------------------------------------------------------------

el.form?.addEventListener("submit", (event) => void joinAsDemoPerson(event));
// On the status region: the form inside it is re-rendered with the status.
el.status.addEventListener("submit", (event) => void approveWallet(event));

async function start(): Promise<void> {
  const assertion = takeAssertionFromFragment();
  const ticket = readCookie(TICKET_COOKIE);
  try {
    if (assertion) return await join(assertion);
    // Admitted as the server rendered it: the QR code is fresh, no poll needed until it nears expiry.
    if (ticket && el.status.dataset.status === "admitted") return handoffPanel(ticket);
    if (ticket) return await follow(ticket);
  } catch (error) {
    notice(t.joinFailed(describe(error)));
  }
  offerJoin();
}

void start();
