import { beforeAll, describe, expect, it } from "vitest";
import { adminGet, createRoom, join, newDevice, ORIGIN, testClock, tick, withEnv } from "../helpers/api";
import { Browser, formOf, jktOf, newWallet, pkce, pushRequest, redeemCode, REDIRECT_URI, type Wallet } from "../helpers/authorization";
import { seedValidHolders } from "../helpers/register";
import { admittedOffer, credential, decodeJwt, MDOC, SD_JWT, token as appToken, walletKeys } from "../helpers/wallet";

/** Demo licence holders offered on the identity form whose licence is valid on the test date. */
let holders: string[] = [];
beforeAll(async () => {
  holders = await seedValidHolders(12);
});

/**
 * The HAIP authorization code flow through the waiting room (docs/authorization-flow.md): PAR with the
 * wallet attestation, the browser's anonymous place, identity after admission, the code to the wallet,
 * the token with PKCE, DPoP nonce and attestation, then the credential.
 */

/** A browser in a fresh room of its own (AUTHORIZATION_ROOM), with an English Accept-Language. */
async function setting(): Promise<{ room: string; browser: () => Browser }> {
  const room = await createRoom();
  const send = withEnv({ AUTHORIZATION_ROOM: room });
  return { room, browser: () => new Browser(send, { "accept-language": "en" }) };
}

function authorizeUrl(wallet: Wallet, requestUri: string): string {
  return `${ORIGIN}/authorize?${new URLSearchParams({ client_id: wallet.clientId, request_uri: requestUri })}`;
}

/** Through the identity form as `personId` (one of the demo holders it offers). */
async function signIn(browser: Browser, page: string, personId = holders[0]!): Promise<{ url: string }> {
  const form = formOf(page);
  expect(page).toContain(`value="${personId}"`);
  const done = await browser.submit(form.action, { ...form.fields, person_id: personId });
  return { url: done.url };
}

describe("the authorization code flow, queued", () => {
  it("takes a wallet from PAR through the waiting page and the identity form to a credential, without script", async () => {
    const { room, browser: newBrowser } = await setting();
    const wallet = await newWallet();
    const pushed = await pushRequest(wallet);
    expect(pushed.status).toBe(201);
    expect(pushed.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(pushed.body.expires_in).toBeGreaterThanOrEqual(60);
    expect(pushed.body.expires_in).toBeLessThanOrEqual(90);

    const browser = newBrowser();
    const waiting = await browser.open(authorizeUrl(wallet, pushed.body.request_uri));
    expect(waiting.url).toBe(`${ORIGIN}/authorize/wait`);
    expect(waiting.res.status).toBe(200);
    expect(waiting.text).toContain('data-status="waiting"');
    expect(waiting.text).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(waiting.text).not.toContain("<script");
    // The place is held by an HttpOnly cookie the page's script could not read.
    expect(browser.cookie("antichambre_authorization")).toBeTruthy();

    await tick(room);
    const identity = await browser.open(`${ORIGIN}/authorize/wait`);
    expect(identity.url.startsWith(`${ORIGIN}/v1/dev/oidc/authorize?`)).toBe(true);
    expect(identity.text).toContain('id="dev-identity-form"');

    const back = await signIn(browser, identity.text);
    expect(back.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    const answer = new URL(back.url).searchParams;
    expect(answer.get("state")).toBe(pushed.state);
    expect(answer.get("iss")).toBe(ORIGIN);
    const code = answer.get("code")!;
    expect(code).toBeTruthy();

    const token = await redeemCode(wallet, code, pushed.verifier);
    expect(token.status).toBe(200);
    expect(token.body.token_type).toBe("DPoP");
    expect(token.res.headers.get("dpop-nonce")).toBeTruthy();
    // PAR already handed out the nonce, so the first token request needs no use_dpop_nonce round trip.
    expect(pushed.dpopNonce).toBe(token.res.headers.get("dpop-nonce"));

    const issued = await credential(wallet.dpop, token.body.access_token, SD_JWT, await walletKeys(1));
    expect(issued.status).toBe(200);
    const sdJwt = issued.body.credentials[0].credential as string;
    expect(decodeJwt(sdJwt.split("~")[0]!).vct).toBeTruthy();
  });
});

/** PAR and the browser up to the identity form: the admitted browser and its identity page. */
async function admittedAtIdentity(
  wallet: Wallet,
  s: { room: string; browser: () => Browser },
  params: Record<string, string> = {},
): Promise<{ browser: Browser; page: string; pushed: Awaited<ReturnType<typeof pushRequest>> }> {
  const pushed = await pushRequest(wallet, { params });
  expect(pushed.status).toBe(201);
  const browser = s.browser();
  await browser.open(authorizeUrl(wallet, pushed.body.request_uri));
  await tick(s.room);
  const identity = await browser.open(`${ORIGIN}/authorize/wait`);
  expect(identity.url.startsWith(`${ORIGIN}/v1/dev/oidc/authorize?`)).toBe(true);
  return { browser, page: identity.text, pushed };
}

/** The whole flow to a code for `personId`. */
async function codeFor(wallet: Wallet, s: { room: string; browser: () => Browser }, personId: string, params: Record<string, string> = {}) {
  const { browser, page, pushed } = await admittedAtIdentity(wallet, s, params);
  const back = new URL((await signIn(browser, page, personId)).url);
  return { answer: back.searchParams, pushed };
}

describe("pushed authorization requests", () => {
  it("refuses a request without a wallet attestation, for another client_id, with plain PKCE or an unknown scope", async () => {
    const wallet = await newWallet();
    const bare = await pushRequest(wallet, { attest: false });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toBe("invalid_client");

    const foreign = await pushRequest(wallet, { params: { client_id: "https://wallet.test.example/someone-else" } });
    expect(foreign.status).toBe(401);
    expect(foreign.body.error).toBe("invalid_client");

    const plain = await pushRequest(wallet, { params: { code_challenge_method: "plain" } });
    expect(plain.status).toBe(400);
    expect(plain.body.error).toBe("invalid_request");

    const scope = await pushRequest(wallet, { params: { scope: "openid everything" } });
    expect(scope.status).toBe(400);
    expect(scope.body.error).toBe("invalid_scope");

    const details = await pushRequest(wallet, {
      params: { scope: "", authorization_details: JSON.stringify([{ type: "openid_credential", credential_configuration_id: "nope" }]) },
    });
    expect(details.status).toBe(400);
    expect(details.body.error).toBe("invalid_request");
  });

  it("takes a request_uri once, only for its client, only within its lifetime, and /authorize only with one", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const pushed = await pushRequest(wallet);

    const foreign = await s
      .browser()
      .open(`${ORIGIN}/authorize?${new URLSearchParams({ client_id: "other", request_uri: pushed.body.request_uri })}`);
    expect(foreign.res.status).toBe(400);
    expect(foreign.text).toContain('data-reason="client_mismatch"');

    const first = await s.browser().open(authorizeUrl(wallet, pushed.body.request_uri));
    expect(first.url).toBe(`${ORIGIN}/authorize/wait`);
    const again = await s.browser().open(authorizeUrl(wallet, pushed.body.request_uri));
    expect(again.res.status).toBe(400);
    expect(again.text).toContain('data-reason="used"');

    const late = await pushRequest(wallet);
    testClock.advance((late.body.expires_in + 1) * 1000);
    const expired = await s.browser().open(authorizeUrl(wallet, late.body.request_uri));
    expect(expired.res.status).toBe(400);
    expect(expired.text).toContain('data-reason="expired"');

    // Without PAR (require_pushed_authorization_requests): the parameters themselves are not accepted.
    const { challenge } = await pkce();
    const direct = await s.browser().open(
      `${ORIGIN}/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: wallet.clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        scope: "mdl_dc_sd_jwt",
      })}`,
    );
    expect(direct.res.status).toBe(400);
    expect(direct.text).toContain('data-reason="missing"');
    // A refused request never redirects to the redirect_uri it names (RFC 6749 §4.1.2.1).
    expect(direct.url.startsWith(ORIGIN)).toBe(true);
  });
});

describe("browser places", () => {
  it("are limited per client address, before the request_uri is even read", async () => {
    const room = await createRoom();
    const send = withEnv({ AUTHORIZATION_ROOM: room, RATE_LIMIT_JOIN_CLIENT: "2/60" });
    const wallet = await newWallet();
    const from = (ip: string) => new Browser(send, { "cf-connecting-ip": ip });
    for (let i = 0; i < 2; i++) {
      const pushed = await pushRequest(wallet);
      expect((await from("203.0.113.7").open(authorizeUrl(wallet, pushed.body.request_uri))).url).toBe(`${ORIGIN}/authorize/wait`);
    }
    const third = await pushRequest(wallet);
    const refused = await from("203.0.113.7").open(authorizeUrl(wallet, third.body.request_uri));
    expect(refused.res.status).toBe(429);
    expect(refused.res.headers.get("retry-after")).toBeTruthy();
    // The refused request_uri was not taken: from another address it still works.
    expect((await from("198.51.100.9").open(authorizeUrl(wallet, third.body.request_uri))).url).toBe(`${ORIGIN}/authorize/wait`);
  });
});

describe("identity after admission", () => {
  it("never sends a waiting browser to the identity provider, nor accepts its callback", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const pushed = await pushRequest(wallet);
    const browser = s.browser();
    await browser.open(authorizeUrl(wallet, pushed.body.request_uri));
    for (let i = 0; i < 3; i++) {
      const page = await browser.open(`${ORIGIN}/authorize/wait`);
      expect(page.res.status).toBe(200);
      expect(page.text).toContain('data-status="waiting"');
    }
    // A callback forged for the waiting browser (any state, any code) is refused before any exchange.
    const forged = await browser.open(`${ORIGIN}/authorize/callback?${new URLSearchParams({ state: "guess", code: "guess" })}`);
    expect(forged.res.status).toBe(400);
    expect(forged.text).toContain('data-reason="wrong_state"');
    expect(browser.visited.some((u) => u.includes("/v1/dev/oidc/"))).toBe(false);
    // Still waiting, still in line.
    expect((await browser.open(`${ORIGIN}/authorize/wait`)).text).toContain('data-status="waiting"');
  });
});

describe("the authorization code at the token endpoint", () => {
  it("refuses a wrong PKCE verifier, another redirect_uri, a missing attestation and another DPoP key, then redeems once", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const boundKey = wallet.dpop;
    const { answer, pushed } = await codeFor(wallet, s, holders[1]!, { dpop_jkt: await jktOf(boundKey.publicJwk) });
    const code = answer.get("code")!;

    const wrongVerifier = await redeemCode(wallet, code, (await pkce()).verifier);
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body.error).toBe("invalid_grant");
    expect(wrongVerifier.body.reason).toBe("pkce_mismatch");

    const otherRedirect = await redeemCode(wallet, code, pushed.verifier, { redirect_uri: "https://wallet.example/other" });
    expect(otherRedirect.status).toBe(400);
    expect(otherRedirect.body.reason).toBe("redirect_uri_mismatch");

    const unattested = await redeemCode(wallet, code, pushed.verifier, {}, { attest: false });
    expect(unattested.status).toBe(401);
    expect(unattested.body.error).toBe("invalid_client");

    const otherWallet = await newWallet();
    const foreignClient = await redeemCode(otherWallet, code, pushed.verifier);
    expect(foreignClient.status).toBe(400);
    expect(foreignClient.body.reason).toBe("client_mismatch");

    const otherKey = await redeemCode(wallet, code, pushed.verifier, {}, { dpop: await newDevice() });
    expect(otherKey.status).toBe(400);
    expect(otherKey.body.reason).toBe("key_not_bound_to_code");

    // None of the refusals used the code up.
    const first = await redeemCode(wallet, code, pushed.verifier);
    expect(first.status).toBe(200);
    const reuse = await redeemCode(wallet, code, pushed.verifier);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    expect(reuse.body.reason).toBe("code_used");
  });

  it("answers authorization_details and limits the token to the configurations authorized", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const details = JSON.stringify([{ type: "openid_credential", credential_configuration_id: SD_JWT }]);
    const { answer, pushed } = await codeFor(wallet, s, holders[2]!, { scope: "", authorization_details: details });
    const token = await redeemCode(wallet, answer.get("code")!, pushed.verifier);
    expect(token.status).toBe(200);
    expect(token.body.authorization_details).toEqual([
      { type: "openid_credential", credential_configuration_id: SD_JWT, credential_identifiers: [SD_JWT] },
    ]);
    const mdoc = await credential(wallet.dpop, token.body.access_token, MDOC, await walletKeys(1));
    expect(mdoc.status).toBe(400);
    expect(mdoc.body.reason).toBe("configuration_not_authorized");
  });
});

describe("one person, one session", () => {
  it("refuses a second browser and wallet of the same person, and frees that admission", async () => {
    const s = await setting();
    const person = holders[3]!;
    const first = await newWallet();
    const a = await codeFor(first, s, person);
    const token = await redeemCode(first, a.answer.get("code")!, a.pushed.verifier);
    expect(token.status).toBe(200);

    expect((await adminGet(s.room)).active).toBe(1);
    const second = await newWallet();
    const b = await codeFor(second, s, person);
    // Its admission gave its place back at once: still one active user, the first one's session.
    expect((await adminGet(s.room)).active).toBe(1);
    expect(b.answer.get("code")).toBeNull();
    expect(b.answer.get("error")).toBe("access_denied");
    expect(b.answer.get("error_description")).toContain("already has an issuance session");
    expect(b.answer.get("state")).toBe(b.pushed.state);
    expect(b.answer.get("iss")).toBe(ORIGIN);

    // The first wallet's session is untouched.
    expect((await credential(first.dpop, token.body.access_token, SD_JWT, await walletKeys(1))).status).toBe(200);
  });

  it("gives one session to one of two browsers of the same person signing in at the same moment", async () => {
    const s = await setting();
    const person = holders[6]!;
    const wallets = [await newWallet(), await newWallet()];
    const pending = [];
    for (const wallet of wallets) pending.push({ wallet, ...(await admittedAtIdentity(wallet, s)) });
    const answers = await Promise.all(pending.map(async (p) => new URL((await signIn(p.browser, p.page, person)).url).searchParams));
    expect(answers.filter((a) => a.get("code") !== null)).toHaveLength(1);
    expect(answers.filter((a) => a.get("error") === "access_denied")).toHaveLength(1);
  });

  it("does not hold the person back once an identity step whose code was never redeemed has run out of admission", async () => {
    const s = await setting();
    const person = holders[7]!;
    const abandoned = await codeFor(await newWallet(), s, person);
    expect(abandoned.answer.get("code")).toBeTruthy();
    // Within that admission, another wallet is refused: the person's session is spoken for.
    const meanwhile = await codeFor(await newWallet(), s, person);
    expect(meanwhile.answer.get("error")).toBe("access_denied");
    // The first wallet never comes; its admission runs out (room default: 300 s). The person comes back.
    testClock.advance(301_000);
    const later = await newWallet();
    const again = await codeFor(later, s, person);
    expect(again.answer.get("code")).toBeTruthy();
    expect((await redeemCode(later, again.answer.get("code")!, again.pushed.verifier)).status).toBe(200);
  });

  it("keeps the person's claim while their session lives, past its admission's TTL: a refused resume frees nothing for another wallet", async () => {
    const s = await setting();
    const person = holders[8]!;
    const wallet = await newWallet();
    const jkt = await jktOf(wallet.dpop.publicJwk);
    const a = await codeFor(wallet, s, person, { dpop_jkt: jkt });
    const first = await redeemCode(wallet, a.answer.get("code")!, a.pushed.verifier);
    expect(first.status).toBe(200);
    // The admission's TTL (300 s) runs out; the session (900 s) does not. The same wallet key comes back
    // through a new browser flow: its code names the person's first admission, which is no longer live.
    testClock.advance(301_000);
    const b = await codeFor(wallet, s, person, { dpop_jkt: jkt });
    expect(b.answer.get("code")).toBeTruthy();
    expect((await redeemCode(wallet, b.answer.get("code")!, b.pushed.verifier)).status).toBe(400);
    // That refusal must not free the person: another wallet of theirs still gets no second session.
    const other = await newWallet();
    const c = await codeFor(other, s, person);
    expect(c.answer.get("code")).toBeNull();
    expect(c.answer.get("error")).toBe("access_denied");
    expect((await credential(wallet.dpop, first.body.access_token, SD_JWT, await walletKeys(1))).status).toBe(200);
  });

  it("takes one identity step per browser place: the sign-in replayed as someone else gets no code", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const { browser, page } = await admittedAtIdentity(wallet, s);
    const form = formOf(page);
    const kept = browser.cookie("antichambre_authorization")!;
    const first = (await browser.submit(form.action, { ...form.fields, person_id: holders[9]! })).url;
    expect(first.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    expect(new URL(first).searchParams.get("code")).toBeTruthy();
    // The same flow (a copy of its cookie, its state, nonce and verifier) through the identity form again,
    // as another person: the wallet gets an error, not a code.
    browser.setCookie("antichambre_authorization", kept);
    const replayed = (await browser.submit(form.action, { ...form.fields, person_id: holders[10]! })).url;
    expect(replayed.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    const again = new URL(replayed);
    expect(again.searchParams.get("code")).toBeNull();
    expect(again.searchParams.get("error")).toBe("access_denied");
    // The other person was not pinned to this admission: their own flow works.
    const theirs = await codeFor(await newWallet(), s, holders[10]!);
    expect(theirs.answer.get("code")).toBeTruthy();
  });

  it("lets the same wallet key resume the person's one session from another browser, with what it already used", async () => {
    const s = await setting();
    const person = holders[4]!;
    const wallet = await newWallet();
    const jkt = await jktOf(wallet.dpop.publicJwk);
    const a = await codeFor(wallet, s, person, { dpop_jkt: jkt });
    const first = await redeemCode(wallet, a.answer.get("code")!, a.pushed.verifier);
    expect(first.status).toBe(200);
    // The session's quota of this configuration (CREDENTIAL_BATCH_SIZE) is spent by the first token.
    const keys = await walletKeys(4);
    expect((await credential(wallet.dpop, first.body.access_token, SD_JWT, keys)).status).toBe(200);

    const b = await codeFor(wallet, s, person, { dpop_jkt: jkt });
    expect(b.answer.get("code")).toBeTruthy();
    const resumed = await redeemCode(wallet, b.answer.get("code")!, b.pushed.verifier);
    expect(resumed.status).toBe(200);
    const more = await credential(wallet.dpop, resumed.body.access_token, SD_JWT, await walletKeys(1));
    expect(more.status).toBe(400);
    expect(more.body.error).toBe("credential_request_denied");
  });

  it("shares the person's one session with the app's pre-authorized path", async () => {
    const s = await setting();
    const person = holders[5]!;
    const wallet = await newWallet();
    const a = await codeFor(wallet, s, person);
    expect((await redeemCode(wallet, a.answer.get("code")!, a.pushed.verifier)).status).toBe(200);

    // The same person in the app, on its own device, in the same room: admitted, but no second session.
    const joined = await join(s.room, { personId: person });
    expect(joined.status).toBe(201);
    await tick(s.room);
    const { code } = await admittedOffer(s.room, joined.ticket);
    const app = await appToken(joined.device, code);
    expect(app.status).toBe(400);
    expect(app.body.error).toBe("invalid_grant");
    expect(app.body.reason).toBe("person_has_session");
  });
});

describe("the authorization waiting page", () => {
  it("needs no script, refreshes itself, and speaks French and English by Accept-Language and by its switch", async () => {
    const s = await setting();
    const wallet = await newWallet();
    const pushed = await pushRequest(wallet);
    const send = withEnv({ AUTHORIZATION_ROOM: s.room });
    const french = new Browser(send, { "accept-language": "fr-FR,fr;q=0.9" });
    const fr = await french.open(authorizeUrl(wallet, pushed.body.request_uri));
    expect(fr.text).toContain('<html lang="fr"');
    expect(fr.text).toContain("Votre place");
    expect(fr.text).not.toMatch(/<script/i);
    expect(fr.text).not.toContain("<noscript");
    expect(fr.text).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(fr.res.headers.get("content-security-policy")).toContain("default-src 'none'");
    // The same landmarks as the room's waiting page: one h1 in main, a live status region, the switch.
    expect(fr.text.match(/<h1/g)?.length).toBe(1);
    expect(fr.text).toContain('<main id="main"');
    expect(fr.text).toContain('aria-live="polite"');
    expect(fr.text).toContain('href="?lang=en"');
    // The person sees which wallet asks, before identifying (a request_uri link can be forwarded).
    expect(fr.text).toContain(`<strong>${wallet.clientId}</strong>`);

    const en = await french.open(`${ORIGIN}/authorize/wait?lang=en`);
    expect(en.text).toContain('<html lang="en"');
    expect(en.text).toContain("Your place");
    const english = await new Browser(send, { "accept-language": "en-GB" }).open(`${ORIGIN}/authorize/wait`);
    // Another browser holds no place: it is told so, in its language.
    expect(english.res.status).toBe(400);
    expect(english.text).toContain('<html lang="en"');
    expect(english.text).toContain('data-reason="no_flow"');
  });
});
