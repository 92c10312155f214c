// @ts-check
// One person's authorization code flow, as a standard wallet and a browser without JavaScript make it:
// the wallet library (wallet.mjs) does PAR, token, nonce, credential and notification; the browser
// (plain-browser.mjs) opens the authorization URL, waits on the waiting page until admitted, signs in at
// the identity provider and comes back to the wallet. The surge lab's authorization-code population
// (tools/surge.mjs --flow authorization_code) runs many of these at once.
import { PlainBrowser, walkAuthorization } from "./plain-browser.mjs";
import { Wallet } from "./wallet.mjs";

/**
 * What one journey records.
 * @typedef {{
 *   person: string,
 *   configuration: string,
 *   outcome: "unfinished" | "issued" | "denied" | "failed",
 *   started_at?: number,
 *   authorized_at?: number,
 *   wait_ms?: number,
 *   waiting_pages?: number,
 *   browser_requests?: number,
 *   credentials?: number,
 *   notified?: boolean,
 *   error?: string,
 * }} AuthorizationRecord
 */

/**
 * @param {{ base: string, fetch: typeof fetch, fill: (personId: string) => Record<string, string>, deadlineMs: number }} ctx
 * @param {{ personId: string, configurationId: string, onState?: (state: string) => void }} spec
 * @returns {Promise<AuthorizationRecord>} never rejects: a failure is the record's outcome
 */
export async function runAuthorizationJourney(ctx, spec) {
  /** @type {AuthorizationRecord} */
  const rec = { person: spec.personId, configuration: spec.configurationId, outcome: "unfinished" };
  const state = (/** @type {string} */ s) => spec.onState?.(s);
  const wallet = new Wallet({ issuer: ctx.base, fetch: ctx.fetch });
  const browser = new PlainBrowser({ fetch: ctx.fetch });
  try {
    rec.started_at = Date.now();
    state("waiting");
    await wallet.authorize({
      configurations: [spec.configurationId],
      step: async (url, { redirectUri }) => {
        const { redirectedTo, walk } = await walkAuthorization(browser, url, {
          redirectUri,
          fill: ctx.fill(spec.personId),
          deadline: Date.now() + ctx.deadlineMs,
        });
        rec.waiting_pages = walk.waiting_pages;
        rec.browser_requests = walk.requests;
        return redirectedTo;
      },
    });
    rec.authorized_at = Date.now();
    rec.wait_ms = rec.authorized_at - rec.started_at;
    state("admitted");
    const received = await wallet.credential(spec.configurationId);
    rec.credentials = 1;
    rec.outcome = "issued";
    state("issued");
    await wallet.accepted(received);
    rec.notified = true;
  } catch (caught) {
    const e = /** @type {any} */ (caught);
    // A person without a valid licence is refused at the credential request (credential_request_denied)
    // or, when the service reads the register at the identity step, in the authorization response.
    const error = e?.response?.credentialErrorResponseResult?.data?.error ?? e?.errorResponse?.error ?? "";
    const denied = error === "credential_request_denied" || error === "access_denied" || /access_denied/.test(String(e?.message));
    if (rec.outcome === "issued") rec.error = `notification: ${e?.message ?? e}`;
    else if (denied) {
      rec.outcome = "denied";
      state("denied");
    } else {
      rec.outcome = "failed";
      rec.error = `${e?.name ?? "Error"}: ${String(e?.message ?? e).slice(0, 300)}`;
      state("failed");
    }
  }
  return rec;
}
