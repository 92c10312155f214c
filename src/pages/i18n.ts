import { denialText, type LicenceDenialReason } from "../issuance/denial-reasons";
import type { WaitRange } from "./wait-range";

/**
 * Every word the waiting page says, in French and English, in one place (server pages and browser
 * bundle alike). French first: this is a French public service, and French is the fallback.
 */
export const LANGS = ["fr", "en"] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = "fr";

export function isLang(value: unknown): value is Lang {
  return value === "fr" || value === "en";
}

/**
 * `?lang=` wins (the visible switch), then the first supported language of Accept-Language by q-value
 * (RFC 9110 section 12.5.4; `fr-CA` counts as `fr`), then French.
 */
export function negotiateLang(query: string | undefined | null, acceptLanguage: string | undefined | null): Lang {
  if (isLang(query)) return query;
  if (!acceptLanguage) return DEFAULT_LANG;
  const ranked = acceptLanguage
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find(Boolean);
      const quality = q ? Number(q[1]) : 1;
      return { primary: tag.trim().toLowerCase().split("-")[0], quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((r) => r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const r of ranked) {
    if (isLang(r.primary)) return r.primary;
    if (r.primary === "*") return DEFAULT_LANG;
  }
  return DEFAULT_LANG;
}

/** Locale for Intl formatting (numbers, times). */
const LOCALES: Record<Lang, string> = { fr: "fr-FR", en: "en-GB" };

export function formatNumber(lang: Lang, n: number): string {
  return new Intl.NumberFormat(LOCALES[lang]).format(n);
}

/** Wall-clock time with seconds and the zone, so "last updated" is unambiguous. `timeZone` for the server (no user zone). */
export function formatTime(lang: Lang, ms: number, timeZone?: string): string {
  return new Intl.DateTimeFormat(LOCALES[lang], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
    ...(timeZone ? { timeZone } : {}),
  }).format(ms);
}

/** Day and time, for moments that may be another day (an event's draw). */
export function formatDateTime(lang: Lang, ms: number, timeZone?: string): string {
  return new Intl.DateTimeFormat(LOCALES[lang], {
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
    ...(timeZone ? { timeZone } : {}),
  }).format(ms);
}

/** "5 minutes", "1 h 30", "2 heures": a rounded duration (whole minutes). */
function duration(lang: Lang, seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} minute${m > 1 ? "s" : ""}`;
  if (m === 0) return lang === "fr" ? `${h} heure${h > 1 ? "s" : ""}` : `${h} hour${h > 1 ? "s" : ""}`;
  return lang === "fr" ? `${h} h ${String(m).padStart(2, "0")}` : `${h} h ${m} min`;
}

/** The number part of a duration when both ends of a range share its unit ("entre 5 et 10 minutes"). */
function sameUnit(low: number, high: number): "minutes" | "hours" | null {
  if (high < 3600) return "minutes";
  if (low >= 3600 && low % 3600 === 0 && high % 3600 === 0) return "hours";
  return null;
}

export function formatWaitRange(lang: Lang, range: WaitRange): string {
  const fr = lang === "fr";
  switch (range.kind) {
    case "unknown":
      return fr ? "inconnue pour l'instant (les admissions sont en pause)" : "unknown for now (admissions are paused)";
    case "under":
      if (range.seconds <= 60) return fr ? "moins d'une minute" : "less than a minute";
      return fr ? `moins de ${duration(lang, range.seconds)}` : `less than ${duration(lang, range.seconds)}`;
    case "between": {
      const unit = sameUnit(range.low, range.high);
      if (unit) {
        const div = unit === "minutes" ? 60 : 3600;
        const word = fr ? (unit === "minutes" ? "minutes" : "heures") : unit;
        return fr
          ? `entre ${range.low / div} et ${range.high / div} ${word}`
          : `between ${range.low / div} and ${range.high / div} ${word}`;
      }
      return fr
        ? `entre ${duration(lang, range.low)} et ${duration(lang, range.high)}`
        : `between ${duration(lang, range.low)} and ${duration(lang, range.high)}`;
    }
  }
}

export type RoomStateName = "open" | "queueing" | "paused" | "closed";

export interface Strings {
  langName: string;
  switchLabel: string;
  siteName: string;
  title(room: string): string;
  heading(room: string): string;
  intro: string;
  yourPlace: string;
  positionLine(position: number): string;
  aheadLine(ahead: number): string;
  prequeueTitle: string;
  prequeueText(drawAt: string): string;
  /** A place re-joined from another device, not counted yet (for about a second). */
  countingText: string;
  eventBefore(opensAt: string, drawAt: string): string;
  eventPrequeue(drawAt: string): string;
  /** Before an event's pre-queue opens: no place can be taken yet (joins are refused until then). */
  prequeueClosedTitle: string;
  prequeueClosedText(opensAt: string): string;
  /** The page's script waits for the opening to join: what it tells the visitor meanwhile. */
  prequeueWait(opensAt: string): string;
  waitLabel: string;
  waitNote: string;
  progressLabel: string;
  progressText(moved: number, total: number): string;
  updatedLabel: string;
  admittedTitle: string;
  admittedUntil(time: string): string;
  openApp: string;
  openAppHint: string;
  scanTitle: string;
  qrTitle: string;
  approveLabel: string;
  approveHint: string;
  approveSubmit: string;
  approveDone: string;
  approveFailed(detail: string): string;
  approveNoscript: string;
  expiredTitle: string;
  expiredText: string;
  publicTitle: string;
  stateLabel: string;
  states: Record<RoomStateName, string>;
  waitingCount(n: number): string;
  rateLine(n: number): string;
  newcomerWait: string;
  joinTitle: string;
  joinFromApp: string;
  devLegend: string;
  devLabel: string;
  devHint: string;
  devSubmit: string;
  joining: string;
  reconnecting: string;
  joinFailed(detail: string): string;
  noscriptRefresh(seconds: number): string;
  noscriptJoin: string;
  keepOpen: string;
  notFoundTitle: string;
  notFoundText(room: string): string;
  unavailableTitle: string;
  unavailableText(seconds: number): string;
  /** A credential refused for the licence itself (the words live in src/issuance/denial-reasons.ts, shared with the SDK). */
  denied(reason: LicenceDenialReason): string;
}

export const STRINGS: Record<Lang, Strings> = {
  fr: {
    langName: "Français",
    switchLabel: "Langue",
    siteName: "Antichambre",
    title: (room) => `Salle d'attente ${room} – Antichambre`,
    heading: (room) => `Salle d'attente « ${room} »`,
    intro: "Beaucoup de personnes demandent leur permis en même temps. Votre place est gardée, dans l'ordre d'arrivée.",
    yourPlace: "Votre place",
    positionLine: (p) =>
      p <= 1 ? "Vous êtes en tête de file : c'est bientôt à vous." : `Vous êtes à la place ${formatNumber("fr", p)} de la file.`,
    aheadLine: (n) =>
      n === 0 ? "Personne devant vous." : n === 1 ? "1 personne devant vous." : `${formatNumber("fr", n)} personnes devant vous.`,
    prequeueTitle: "Vous êtes dans la pré-file",
    prequeueText: (at) =>
      `Le ${at}, un tirage au sort place dans la file, au hasard, toutes les personnes arrivées avant. Votre place s'affichera alors : arriver plus tôt ne change rien.`,
    countingText: "Votre place est gardée ; elle est en cours de comptage et s'affichera dans un instant.",
    eventBefore: (opens, draw) => `La pré-file ouvre le ${opens} ; le tirage au sort a lieu le ${draw}.`,
    eventPrequeue: (draw) => `Pré-file ouverte : les personnes arrivées avant le ${draw} seront placées par tirage au sort.`,
    prequeueClosedTitle: "La pré-file n'est pas encore ouverte",
    prequeueClosedText: (opens) =>
      `Aucune place ne peut être prise avant le ${opens}. À partir de là, toutes les personnes qui arrivent avant le tirage y participent à égalité : inutile d'arriver en avance.`,
    prequeueWait: (opens) => `La pré-file ouvre le ${opens} : gardez cette page ouverte, elle vous y inscrira à l'ouverture.`,
    waitLabel: "Attente estimée :",
    waitNote: "Estimée d'après le rythme actuel des admissions ; elle peut changer.",
    progressLabel: "Progression depuis votre arrivée",
    progressText: (moved, total) =>
      `${formatNumber("fr", moved)} place${moved > 1 ? "s" : ""} gagnée${moved > 1 ? "s" : ""} sur ${formatNumber("fr", total)}`,
    updatedLabel: "Dernière mise à jour :",
    admittedTitle: "C'est votre tour !",
    admittedUntil: (t) => `Récupérez votre permis avant ${t}.`,
    openApp: "Ouvrir dans mon application portefeuille",
    openAppHint: "Sur ce téléphone : le lien ouvre votre application d'identité numérique.",
    scanTitle: "Ou scannez ce code QR avec votre portefeuille",
    qrTitle: "Code QR de l'offre de permis de conduire",
    approveLabel: "Saisissez le code affiché par votre portefeuille",
    approveHint:
      "Après avoir scanné le code QR, votre portefeuille affiche un code de 6 lettres et chiffres. Ne saisissez jamais un code que quelqu'un d'autre vous donne : il recevrait votre permis.",
    approveSubmit: "Autoriser ce portefeuille",
    approveDone: "Portefeuille autorisé : il reçoit votre permis.",
    approveFailed: (d) => `Portefeuille non autorisé : ${d}`,
    approveNoscript: "Pour autoriser votre portefeuille, JavaScript doit être activé sur cette page.",
    expiredTitle: "Votre admission a expiré",
    expiredText: "Le délai pour récupérer votre permis est passé. Vous pouvez reprendre une place dans la file.",
    publicTitle: "La file en ce moment",
    stateLabel: "État :",
    states: {
      open: "ouverte, sans attente",
      queueing: "file d'attente en cours",
      paused: "admissions en pause",
      closed: "complète, revenez plus tard",
    },
    waitingCount: (n) =>
      n === 0 ? "Personne n'attend." : n === 1 ? "1 personne attend." : `${formatNumber("fr", n)} personnes attendent.`,
    rateLine: (n) => `Admissions sur la dernière minute : ${formatNumber("fr", n)}.`,
    newcomerWait: "Attente pour une personne qui arrive maintenant :",
    joinTitle: "Prendre votre place",
    joinFromApp: "Pour prendre votre place, ouvrez cette page depuis l'application France Identité.",
    devLegend: "Démonstration : choisir une personne",
    devLabel: "Identifiant de la personne",
    devHint: "De FR-000001 à FR-010000 (registre de démonstration).",
    devSubmit: "Prendre ma place",
    joining: "Connexion à la file…",
    reconnecting: "Connexion perdue, nouvelle tentative…",
    joinFailed: (d) => `Impossible de continuer : ${d}`,
    noscriptRefresh: (s) => `JavaScript est désactivé : cette page se met à jour toute seule toutes les ${s} secondes.`,
    noscriptJoin: "Pour prendre une place, JavaScript doit être activé.",
    keepOpen: "Gardez cette page ouverte : elle se met à jour toute seule.",
    notFoundTitle: "Salle d'attente introuvable",
    notFoundText: (room) => `Il n'existe pas de salle d'attente nommée « ${room} ». Vérifiez l'adresse.`,
    unavailableTitle: "Service momentanément indisponible",
    unavailableText: (s) => `Votre place n'est pas perdue. Cette page réessaie dans ${s} secondes.`,
    denied: (reason) => denialText("fr", reason),
  },
  en: {
    langName: "English",
    switchLabel: "Language",
    siteName: "Antichambre",
    title: (room) => `Waiting room ${room} – Antichambre`,
    heading: (room) => `Waiting room “${room}”`,
    intro: "Many people are asking for their licence at the same time. Your place is kept, in order of arrival.",
    yourPlace: "Your place",
    positionLine: (p) => (p <= 1 ? "You are first in line: it is nearly your turn." : `You are number ${formatNumber("en", p)} in line.`),
    aheadLine: (n) =>
      n === 0 ? "Nobody ahead of you." : n === 1 ? "1 person ahead of you." : `${formatNumber("en", n)} people ahead of you.`,
    prequeueTitle: "You are in the pre-queue",
    prequeueText: (at) =>
      `On ${at}, a draw places everyone who arrived before it in the line, at random. Your place will show then: arriving earlier changes nothing.`,
    countingText: "Your place is kept; it is being counted and will show in a moment.",
    eventBefore: (opens, draw) => `The pre-queue opens on ${opens}; the draw is on ${draw}.`,
    eventPrequeue: (draw) => `Pre-queue open: everyone who arrives before ${draw} is placed by a draw.`,
    prequeueClosedTitle: "The pre-queue is not open yet",
    prequeueClosedText: (opens) =>
      `No place can be taken before ${opens}. From then on, everyone who arrives before the draw takes part in it equally: there is no point in coming early.`,
    prequeueWait: (opens) => `The pre-queue opens on ${opens}: keep this page open, it will enter you when it opens.`,
    waitLabel: "Estimated wait:",
    waitNote: "Estimated from the current admission rate; it may change.",
    progressLabel: "Progress since you joined",
    progressText: (moved, total) => `moved up ${formatNumber("en", moved)} of ${formatNumber("en", total)} place${total > 1 ? "s" : ""}`,
    updatedLabel: "Last updated:",
    admittedTitle: "It is your turn!",
    admittedUntil: (t) => `Collect your licence before ${t}.`,
    openApp: "Open in my wallet app",
    openAppHint: "On this phone: the link opens your digital identity app.",
    scanTitle: "Or scan this QR code with your wallet",
    qrTitle: "QR code of the driving licence offer",
    approveLabel: "Enter the code your wallet shows",
    approveHint:
      "After scanning the QR code, your wallet shows a code of 6 letters and digits. Never enter a code someone else gives you: they would receive your licence.",
    approveSubmit: "Approve this wallet",
    approveDone: "Wallet approved: it is receiving your licence.",
    approveFailed: (d) => `Wallet not approved: ${d}`,
    approveNoscript: "Approving your wallet needs JavaScript on this page.",
    expiredTitle: "Your admission has expired",
    expiredText: "The time to collect your licence has passed. You can take a new place in line.",
    publicTitle: "The line right now",
    stateLabel: "Status:",
    states: { open: "open, no wait", queueing: "people are queueing", paused: "admissions paused", closed: "full, come back later" },
    waitingCount: (n) =>
      n === 0 ? "Nobody is waiting." : n === 1 ? "1 person is waiting." : `${formatNumber("en", n)} people are waiting.`,
    rateLine: (n) => `Admitted in the last minute: ${formatNumber("en", n)}.`,
    newcomerWait: "Wait for someone arriving now:",
    joinTitle: "Take your place",
    joinFromApp: "To take your place, open this page from the France Identité app.",
    devLegend: "Demo: pick a person",
    devLabel: "Person identifier",
    devHint: "FR-000001 to FR-010000 (demo register).",
    devSubmit: "Join the line",
    joining: "Joining the line…",
    reconnecting: "Connection lost, trying again…",
    joinFailed: (d) => `Cannot continue: ${d}`,
    noscriptRefresh: (s) => `JavaScript is off: this page updates itself every ${s} seconds.`,
    noscriptJoin: "Taking a place needs JavaScript.",
    keepOpen: "Keep this page open: it updates itself.",
    notFoundTitle: "Waiting room not found",
    notFoundText: (room) => `There is no waiting room named “${room}”. Check the address.`,
    unavailableTitle: "Service temporarily unavailable",
    unavailableText: (s) => `Your place is not lost. This page tries again in ${s} seconds.`,
    denied: (reason) => denialText("en", reason),
  },
};
