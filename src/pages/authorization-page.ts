import { renderShell } from "./document";
import { html } from "./html";
import type { Lang } from "./i18n";
import { renderStatus, renderUpdated } from "./status-view";
import { SERVER_TIME_ZONE } from "./waiting-page";

/**
 * The authorization code flow's pages (src/routes/authorization.ts): the waiting page of a browser that
 * a wallet opened, and the page shown when the request cannot go back to the wallet. No script at all:
 * the page refreshes itself with a meta refresh, and once admitted the next load redirects to the
 * identity service. Same structure and accessibility as the room's waiting page (src/pages/
 * waiting-page.ts): landmarks, one h1, the status region with aria-live, the language switch as links.
 */
const TEXT = {
  fr: {
    title: "Votre permis dans votre portefeuille – Antichambre",
    heading: "Votre permis de conduire numérique",
    intro:
      "Votre application portefeuille demande votre permis. Beaucoup de personnes le demandent en même temps : votre place est gardée dans la file. Quand ce sera votre tour, cette page vous conduira au service d'identité, puis vous ramènera à votre portefeuille.",
    keepOpen: "Gardez cette page ouverte : elle se met à jour toute seule.",
    requestedBy: "Portefeuille qui demande votre permis :",
    notYou: "Si vous n'avez pas demandé votre permis depuis ce portefeuille, fermez cette page.",
    refresh: (s: number) => `Cette page se recharge toute seule toutes les ${s} secondes.`,
    continue: "Continuer",
    errorTitle: "Cette demande ne peut pas continuer",
    errors: {
      missing: "Il manque la demande de votre portefeuille. Recommencez depuis votre application portefeuille.",
      invalid: "La demande de votre portefeuille n'est pas valide. Recommencez depuis votre application portefeuille.",
      expired: "La demande de votre portefeuille a expiré. Recommencez depuis votre application portefeuille.",
      used: "Cette demande a déjà été utilisée. Recommencez depuis votre application portefeuille.",
      client_mismatch: "Cette demande n'appartient pas à ce portefeuille. Recommencez depuis votre application portefeuille.",
      no_flow: "Aucune demande n'est en cours dans ce navigateur. Recommencez depuis votre application portefeuille.",
      wrong_state:
        "Le retour du service d'identité ne correspond pas à la demande en cours. Recommencez depuis votre application portefeuille.",
    },
  },
  en: {
    title: "Your licence in your wallet – Antichambre",
    heading: "Your digital driving licence",
    intro:
      "Your wallet app asks for your licence. Many people are asking at the same time: your place in line is kept. When it is your turn, this page takes you to the identity service, then back to your wallet.",
    keepOpen: "Keep this page open: it updates by itself.",
    requestedBy: "Wallet asking for your licence:",
    notYou: "If you did not ask for your licence from this wallet, close this page.",
    refresh: (s: number) => `This page reloads by itself every ${s} seconds.`,
    continue: "Continue",
    errorTitle: "This request cannot continue",
    errors: {
      missing: "Your wallet's request is missing. Start again from your wallet app.",
      invalid: "Your wallet's request is not valid. Start again from your wallet app.",
      expired: "Your wallet's request has expired. Start again from your wallet app.",
      used: "This request was already used. Start again from your wallet app.",
      client_mismatch: "This request does not belong to this wallet. Start again from your wallet app.",
      no_flow: "No request is in progress in this browser. Start again from your wallet app.",
      wrong_state: "The identity service's answer does not match the request in progress. Start again from your wallet app.",
    },
  },
} as const;

export type AuthorizationErrorReason = keyof (typeof TEXT)["fr"]["errors"];

export function renderAuthorizationWaitingPage(input: {
  lang: Lang;
  nonce: string;
  view: { status: "waiting"; position: number | null; estimated_wait_seconds: number | null; lottery_at?: string };
  updatedAt: number;
  refreshSeconds: number;
  /**
   * The wallet's client_id (its attestation's subject). Shown because a request_uri link can be sent to
   * someone else: the person sees which wallet would receive their licence before identifying.
   */
  clientId: string;
}): string {
  const { lang, nonce } = input;
  const t = TEXT[lang];
  const options = { lang, timeZone: SERVER_TIME_ZONE };
  const head = html`<meta http-equiv="refresh" content="${input.refreshSeconds}">`;
  const body = html`<main id="main" data-flow="authorization" data-lang="${lang}">
<h1>${t.heading}</h1>
<p>${t.intro}</p>
<section id="status-card" class="card" aria-labelledby="status-heading">
<div id="status" aria-live="polite" data-status="waiting">${renderStatus(input.view, options)}</div>
<p id="updated">${renderUpdated(input.updatedAt, options)}</p>
<p class="hint" id="wait-note">${t.keepOpen}</p>
</section>
<p id="requested-by">${t.requestedBy} <strong>${input.clientId}</strong></p>
<p class="hint" id="not-you">${t.notYou}</p>
<p class="hint" id="refresh-note">${t.refresh(input.refreshSeconds)}</p>
<p><a class="button" id="continue" href="?lang=${lang}">${t.continue}</a></p>
</main>`;
  return renderShell({ lang, title: t.title, nonce, head, body });
}

export function renderAuthorizationErrorPage(input: { lang: Lang; nonce: string; reason: AuthorizationErrorReason }): string {
  const t = TEXT[input.lang];
  return renderShell({
    lang: input.lang,
    title: t.errorTitle,
    nonce: input.nonce,
    body: html`<main id="main" data-flow="authorization">
<h1>${t.errorTitle}</h1>
<p id="authorization-error" data-reason="${input.reason}">${t.errors[input.reason]}</p>
</main>`,
  });
}
