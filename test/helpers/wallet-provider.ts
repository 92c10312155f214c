import { importJWK, SignJWT, type JWK } from "jose";
import { DEV_WALLET_PROVIDER_CA_PEM, DEV_WALLET_PROVIDER_CERT_PEM, DEV_WALLET_PROVIDER_KEY } from "../../src/config/dev-wallet-provider";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { clock } from "../../src/lib/clock";
import type { Device } from "./device";
import { loadX509 } from "./mdoc-verifier";

/**
 * A wallet provider, for tests: wallet attestations (client authentication) and key attestations
 * (OpenID4VCI appendix D), signed locally (nothing here needs workerd: WebCrypto, jose and the
 * development constants), by default with the development wallet provider's key
 * (src/config/dev-wallet-provider.ts, the anchor development trusts). `makeProvider` builds other
 * providers with @peculiar/x509 (a foreign CA, a self-signed leaf, an expired certificate, a leaf
 * that is a CA...) for the refusals.
 */
export interface Provider {
  readonly key: CryptoKey;
  /** base64 DER, leaf first. */
  readonly x5c: string[];
  /** PEM of the provider's root (to configure it as an anchor in a test). */
  readonly anchorPem: string;
}

const b64 = (der: Uint8Array) => btoa(String.fromCharCode(...der));

let devProvider: Promise<Provider> | undefined;

/** The development wallet provider (trusted by default in development). */
export function devWalletProvider(): Promise<Provider> {
  devProvider ??= (async () => ({
    key: (await importJWK({ ...DEV_WALLET_PROVIDER_KEY, alg: "ES256" }, "ES256")) as CryptoKey,
    x5c: [b64(pemToDer(DEV_WALLET_PROVIDER_CERT_PEM))],
    anchorPem: DEV_WALLET_PROVIDER_CA_PEM,
  }))();
  return devProvider;
}

const nowSeconds = () => Math.floor(clock.now() / 1000);

export interface WalletAttestationOptions {
  provider?: Provider;
  clientId?: string;
  /** Seconds from now. */
  expiresIn?: number;
  typ?: string;
  /** Replace the claims entirely (missing-claim cases). */
  claims?: Record<string, unknown>;
}

export const TEST_CLIENT_ID = "https://wallet.test.example/client";

/** An `oauth-client-attestation+jwt` for `wallet` (its key goes to `cnf.jwk`). */
export async function walletAttestation(wallet: Pick<Device, "publicJwk">, o: WalletAttestationOptions = {}): Promise<string> {
  const provider = o.provider ?? (await devWalletProvider());
  const iat = nowSeconds();
  const claims = o.claims ?? {
    iss: "https://wallet-provider.test.example",
    sub: o.clientId ?? TEST_CLIENT_ID,
    iat,
    exp: iat + (o.expiresIn ?? 3600),
    cnf: { jwk: wallet.publicJwk },
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: o.typ ?? "oauth-client-attestation+jwt", x5c: provider.x5c })
    .sign(provider.key);
}

export interface PopOptions {
  aud?: string;
  jti?: string;
  iat?: number;
  iss?: string | null;
  typ?: string;
  signWith?: CryptoKey;
}

/** An `oauth-client-attestation-pop+jwt` signed by the wallet key. */
export async function attestationPop(wallet: Pick<Device, "privateKey">, aud: string, o: PopOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { aud: o.aud ?? aud, jti: o.jti ?? crypto.randomUUID(), iat: o.iat ?? nowSeconds() };
  if (o.iss !== null) claims.iss = o.iss ?? TEST_CLIENT_ID;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: o.typ ?? "oauth-client-attestation-pop+jwt" })
    .sign(o.signWith ?? wallet.privateKey);
}

/** Both client-authentication headers for `wallet` at the issuer `aud`. */
export async function clientAttestationHeaders(
  wallet: Device,
  aud: string,
  o: WalletAttestationOptions = {},
): Promise<Record<string, string>> {
  return {
    "oauth-client-attestation": await walletAttestation(wallet, o),
    "oauth-client-attestation-pop": await attestationPop(wallet, aud, o.clientId ? { iss: o.clientId } : {}),
  };
}

export interface KeyAttestationOptions {
  provider?: Provider;
  keyStorage?: string[];
  userAuthentication?: string[];
  nonce?: string;
  expiresIn?: number;
  typ?: string;
}

/** A `key-attestation+jwt` listing `keys` (public JWKs). */
export async function keyAttestation(keys: JWK[], o: KeyAttestationOptions = {}): Promise<string> {
  const provider = o.provider ?? (await devWalletProvider());
  const iat = nowSeconds();
  return new SignJWT({
    iss: "https://wallet-provider.test.example",
    iat,
    exp: iat + (o.expiresIn ?? 3600),
    attested_keys: keys,
    key_storage: o.keyStorage ?? ["iso_18045_high"],
    user_authentication: o.userAuthentication ?? ["iso_18045_high"],
    ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
  })
    .setProtectedHeader({ alg: "ES256", typ: o.typ ?? "key-attestation+jwt", x5c: provider.x5c })
    .sign(provider.key);
}

// ---- the same, from the development routes (what the e2e wallet and the SDK call) ---------------------

/** How the route helpers reach the Worker: `call` in workerd tests, a fetch to `npm start` from Node. */
export type Send = (path: string, init: RequestInit) => Promise<Response>;

/** POST /v1/dev/wallet-attestations. */
export async function devRouteWalletAttestation(send: Send, wallet: Pick<Device, "publicJwk">, clientId = TEST_CLIENT_ID): Promise<string> {
  const res = await send("/v1/dev/wallet-attestations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: clientId, jwk: wallet.publicJwk }),
  });
  if (res.status !== 201) throw new Error(`dev wallet attestation: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { wallet_attestation: string }).wallet_attestation;
}

/** POST /v1/dev/key-attestations. */
export async function devRouteKeyAttestation(
  send: Send,
  keys: JWK[],
  o: { keyStorage?: string[]; userAuthentication?: string[]; nonce?: string } = {},
): Promise<string> {
  const res = await send("/v1/dev/key-attestations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      attested_keys: keys,
      key_storage: o.keyStorage ?? ["iso_18045_high"],
      user_authentication: o.userAuthentication ?? ["iso_18045_high"],
      ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    }),
  });
  if (res.status !== 201) throw new Error(`dev key attestation: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key_attestation: string }).key_attestation;
}

// ---- other providers, made with @peculiar/x509 -----------------------------------------------------------

const EC = { name: "ECDSA", namedCurve: "P-256" };
const ES256 = { name: "ECDSA", hash: "SHA-256" };
const DAY = 86_400_000;

export interface ProviderShape {
  /** The leaf is its own issuer (no CA at all). */
  selfSigned?: boolean;
  /** The leaf's validity ended a day ago (by the tests' clock). */
  leafExpired?: boolean;
  /** The leaf says cA: true. */
  leafIsCa?: boolean;
  /** An intermediate without cA: true signs the leaf (root → intermediate → leaf). */
  intermediateNotCa?: boolean;
  /** root → intermediate (a proper CA) → leaf. */
  intermediate?: boolean;
  /** Put the root in x5c too. */
  includeRoot?: boolean;
  /** The root's key is P-384 and it signs with ECDSA SHA-384. */
  rootP384?: boolean;
  /** The root's pathLenConstraint (default 1: room for one intermediate). */
  rootPathLen?: number;
}

let serial = 1;

/** A wallet provider with its own root (not trusted unless a test configures `anchorPem`). */
export async function makeProvider(shape: ProviderShape = {}): Promise<Provider> {
  const x = await loadX509();
  const now = clock.now();
  const gen = (curve = EC) => crypto.subtle.generateKey(curve, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
  const rootKeys = await gen(shape.rootP384 ? { name: "ECDSA", namedCurve: "P-384" } : EC);
  const rootSigning = shape.rootP384 ? { name: "ECDSA", hash: "SHA-384" } : ES256;
  const root = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    name: `CN=Test Wallet Provider CA ${serial}`,
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now + 365 * DAY),
    keys: rootKeys,
    signingAlgorithm: rootSigning,
    extensions: [
      new x.BasicConstraintsExtension(true, shape.rootPathLen ?? 1, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const leafKeys = await gen();
  const leafExtensions = [
    new x.BasicConstraintsExtension(shape.leafIsCa ?? false, undefined, true),
    new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | (shape.leafIsCa ? x.KeyUsageFlags.keyCertSign : 0), true),
  ];
  const validity = { notBefore: new Date(now - 30 * DAY), notAfter: new Date(shape.leafExpired ? now - DAY : now + 90 * DAY) };
  if (shape.selfSigned) {
    const leaf = await x.X509CertificateGenerator.createSelfSigned({
      serialNumber: (serial++).toString(16).padStart(2, "0"),
      name: `CN=Self-signed wallet ${serial}`,
      ...validity,
      keys: leafKeys,
      signingAlgorithm: ES256,
      extensions: leafExtensions,
    });
    return { key: leafKeys.privateKey, x5c: [b64(new Uint8Array(leaf.rawData))], anchorPem: root.toString("pem") };
  }
  let issuerCert = root;
  let issuerKey = rootKeys.privateKey;
  let issuerSigning = rootSigning;
  const chain: Uint8Array[] = [];
  if (shape.intermediate || shape.intermediateNotCa) {
    const midKeys = await gen();
    const mid = await x.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16).padStart(2, "0"),
      subject: `CN=Test Wallet Provider Intermediate ${serial}`,
      issuer: root.subjectName,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now + 365 * DAY),
      publicKey: midKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: rootSigning,
      extensions: shape.intermediateNotCa
        ? [new x.BasicConstraintsExtension(false, undefined, true)]
        : [new x.BasicConstraintsExtension(true, 0, true), new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign, true)],
    });
    chain.push(new Uint8Array(mid.rawData));
    issuerCert = mid;
    issuerKey = midKeys.privateKey;
    issuerSigning = ES256;
  }
  const leaf = await x.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    subject: `CN=Test Wallet Provider ${serial}`,
    issuer: issuerCert.subjectName,
    ...validity,
    publicKey: leafKeys.publicKey,
    signingKey: issuerKey,
    signingAlgorithm: issuerSigning,
    extensions: leafExtensions,
  });
  chain.unshift(new Uint8Array(leaf.rawData));
  if (shape.includeRoot) chain.push(new Uint8Array(root.rawData));
  return { key: leafKeys.privateKey, x5c: chain.map(b64), anchorPem: root.toString("pem") };
}
