import { calculateJwkThumbprint, SignJWT, type JWK } from "jose";
import { expect } from "vitest";
import { clock } from "../../src/lib/clock";
import { call, ORIGIN, type Send } from "./api";
import { newDevice, type Device } from "./device";
import { attestationPop, walletAttestation } from "./wallet-provider";

/**
 * The authorization code flow from the wallet's and the browser's side, over plain HTTP: a wallet with
 * its attestation (OAuth-Client-Attestation + PoP), PKCE, PAR, DPoP proofs with server nonces, and a
 * browser that keeps cookies, follows redirects within the service and submits forms, with no script.
 */
export const REDIRECT_URI = "https://wallet.example/callback";

export interface Wallet {
  readonly clientId: string;
  /** The wallet instance key the attestation binds (cnf.jwk). */
  readonly instance: Device;
  /** The DPoP key its tokens are bound to. */
  readonly dpop: Device;
  attestationHeaders(): Promise<Record<string, string>>;
}

/**
 * A wallet attested by the development wallet provider (test/helpers/wallet-provider.ts, the attest
 * branch's): OAuth-Client-Attestation with `sub` = client_id and `cnf.jwk` = the instance key, and a PoP
 * with a fresh jti each time.
 */
export async function newWallet(clientId = `https://wallet.test.example/${crypto.randomUUID()}`): Promise<Wallet> {
  const instance = await newDevice();
  const dpop = await newDevice();
  return {
    clientId,
    instance,
    dpop,
    async attestationHeaders() {
      return {
        "oauth-client-attestation": await walletAttestation(instance, { clientId }),
        "oauth-client-attestation-pop": await attestationPop(instance, ORIGIN, { iss: clientId }),
      };
    },
  };
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

export interface Pushed {
  status: number;
  body: Record<string, any>;
  verifier: string;
  state: string;
  /** The answer's DPoP-Nonce header: what the wallet's first token request carries. */
  dpopNonce: string | null;
}

export async function pushRequest(
  wallet: Wallet,
  options: { params?: Record<string, string>; headers?: Record<string, string>; attest?: boolean } = {},
): Promise<Pushed> {
  const { verifier, challenge } = await pkce();
  const state = crypto.randomUUID();
  const res = await call("/par", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(options.attest === false ? {} : await wallet.attestationHeaders()),
      ...options.headers,
    },
    body: new URLSearchParams({
      response_type: "code",
      client_id: wallet.clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
      scope: "mdl_dc_sd_jwt",
      ...options.params,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, verifier, state, dpopNonce: res.headers.get("dpop-nonce") };
}

/** A browser: a cookie jar, redirects followed within the service, forms submitted as they are. */
export class Browser {
  readonly #cookies = new Map<string, string>();
  /** Every URL this browser was sent to, in order. */
  readonly visited: string[] = [];

  constructor(
    private readonly send: Send,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** GET `url` and follow redirects while they stay on the service; the last response, and where it stopped. */
  async open(url: string): Promise<{ res: Response; url: string; text: string }> {
    return this.#follow(url, { method: "GET" });
  }

  async submit(action: string, fields: Record<string, string>): Promise<{ res: Response; url: string; text: string }> {
    return this.#follow(new URL(action, ORIGIN).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }
  /** Puts a cookie back, as an attacker who copied it would (the service may have told the browser to drop it). */
  setCookie(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  async #follow(url: string, init: RequestInit): Promise<{ res: Response; url: string; text: string }> {
    let current = url;
    let request = init;
    for (let hops = 0; hops < 10; hops++) {
      this.visited.push(current);
      if (!current.startsWith(ORIGIN)) return { res: new Response(null, { status: 200 }), url: current, text: "" };
      const cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      const res = await this.send(current.slice(ORIGIN.length), {
        ...request,
        redirect: "manual",
        headers: { ...this.headers, ...(request.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
      });
      for (const line of (res.headers as Headers & { getSetCookie(): string[] }).getSetCookie()) {
        const [pair] = line.split(";");
        const eq = pair!.indexOf("=");
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (/max-age=0/i.test(line) || value === "") this.#cookies.delete(name);
        else this.#cookies.set(name, value);
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current).toString();
        request = { method: "GET" };
        continue;
      }
      return { res, url: current, text: await res.text() };
    }
    throw new Error("too many redirects");
  }
}

/** The form of an HTML page as a browser submits it: its action and its fields' values (checked radios only). */
export function formOf(page: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(page);
  expect(form, "the page has a form").not.toBeNull();
  const fields: Record<string, string> = {};
  for (const input of form![2]!.matchAll(/<input([^>]*)>/g)) {
    const attrs = input[1]!;
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    const value = /value="([^"]*)"/.exec(attrs)?.[1] ?? "";
    const type = /type="([^"]*)"/.exec(attrs)?.[1] ?? "text";
    if (!name || (type === "radio" && !/\schecked/.test(attrs))) continue;
    fields[name] = unescape(value);
  }
  return { action: unescape(form![1]!), fields };
}

function unescape(v: string): string {
  return v.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** A DPoP proof with the server's nonce (RFC 9449 §8). */
export async function dpopProof(device: Device, method: string, url: string, nonce?: string): Promise<string> {
  return new SignJWT({ htm: method, htu: url, jti: crypto.randomUUID(), ...(nonce ? { nonce } : {}) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(device.privateKey);
}

/**
 * POST /token with the authorization code: first without a nonce (the server answers use_dpop_nonce
 * with one), then with it, as wallets do.
 */
export async function redeemCode(
  wallet: Wallet,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
  options: { attest?: boolean; dpop?: Device } = {},
): Promise<{ status: number; body: Record<string, any>; res: Response }> {
  const url = `${ORIGIN}/token`;
  const send = async (nonce?: string) =>
    call("/token", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        dpop: await dpopProof(options.dpop ?? wallet.dpop, "POST", url, nonce),
        ...(options.attest === false ? {} : await wallet.attestationHeaders()),
      },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...extra }),
    });
  let res = await send();
  if (res.status === 400 && res.headers.get("dpop-nonce")) {
    const first = (await res.json()) as Record<string, any>;
    expect(first.error).toBe("use_dpop_nonce");
    res = await send(res.headers.get("dpop-nonce")!);
  }
  return { status: res.status, body: (await res.json()) as Record<string, any>, res };
}

export async function jktOf(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, "sha256");
}
