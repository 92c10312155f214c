import { beforeAll, describe, expect, it } from "vitest";
import { createRoom, ORIGIN, tick, withEnv } from "../helpers/api";
import { Browser, formOf, newWallet, pushRequest, redeemCode, REDIRECT_URI, type Wallet } from "../helpers/authorization";
import { seedValidHolders } from "../helpers/register";
import { credential, decodeJwt, SD_JWT, walletKeys } from "../helpers/wallet";

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

    const issued = await credential(wallet.dpop, token.body.access_token, SD_JWT, await walletKeys(1));
    expect(issued.status).toBe(200);
    const sdJwt = issued.body.credentials[0].credential as string;
    expect(decodeJwt(sdJwt.split("~")[0]!).vct).toBeTruthy();
  });
});
