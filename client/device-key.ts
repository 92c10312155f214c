import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";

/**
 * The device key: the P-256 key pair a phone holds for its whole time in the waiting room and through
 * issuance. Every join is a DPoP proof by it (the ticket is bound to its thumbprint), and the
 * pre-authorized code and access token can only be used with proofs by the same key (RFC 9449).
 *
 * Only WebCrypto and jose: runs in browsers, React Native with a WebCrypto polyfill, Node 20 and workerd.
 * The private key is generated non-extractable where the platform allows it (WebCrypto always does),
 * so script on the page can sign with it but never read it; the public key is exported as a JWK.
 *
 * Persistence is the app's: a `KeyPairStore` keeps the CryptoKeyPair itself (not key material). In a
 * browser, IndexedDB stores CryptoKey objects by structured clone, non-extractable ones included:
 *
 *   const store: KeyPairStore = {
 *     load: () => idbGet("antichambre", "device-key"),          // resolves a CryptoKeyPair or null
 *     save: (pair) => idbPut("antichambre", "device-key", pair),
 *     clear: () => idbDelete("antichambre", "device-key"),
 *   };
 *   const device = await DeviceKey.loadOrCreate(store);
 *
 * On iOS/Android a native module backed by the Secure Enclave / StrongBox is the better home; it only
 * has to offer a CryptoKey-like signer to jose. Without a store, the key lives in memory.
 */
export interface KeyPairStore {
  /** The stored pair, or null when none was saved yet. */
  load(): Promise<CryptoKeyPair | null>;
  save(pair: CryptoKeyPair): Promise<void>;
  clear(): Promise<void>;
}

/** The default store: the key pair lives as long as this object (a page load, a process). */
export class MemoryKeyPairStore implements KeyPairStore {
  private pair: CryptoKeyPair | null = null;
  async load(): Promise<CryptoKeyPair | null> {
    return this.pair;
  }
  async save(pair: CryptoKeyPair): Promise<void> {
    this.pair = pair;
  }
  async clear(): Promise<void> {
    this.pair = null;
  }
}

export interface DpopProofOptions {
  /** HTTP method of the request the proof accompanies. */
  method: string;
  /** Target URL; query and fragment are dropped (RFC 9449 section 4.2, `htu`). */
  url: string;
  /** The access token the request carries: adds `ath` = base64url(SHA-256(token)). */
  accessToken?: string;
  /** A server-provided `DPoP-Nonce`, if the server asked for one. */
  nonce?: string;
  /** Current time in ms (default Date.now()). */
  now?: number;
}

export interface KeyProofOptions {
  /** The credential issuer identifier (`aud`). */
  audience: string;
  /** The `c_nonce` from the issuer's nonce endpoint. */
  nonce: string;
  now?: number;
}

/** `htu`: scheme, authority and path of the target URL, without query or fragment. */
export function htuOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** base64url(SHA-256(access token)): the `ath` claim of a proof sent with that token. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

function randomId(): string {
  return crypto.randomUUID();
}

export class DeviceKey {
  private constructor(
    /** The signing key. Non-extractable when created here. */
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    /** The public key as a JWK (kty, crv, x, y only). */
    readonly publicJwk: JWK,
    /** RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` the service binds tickets to. */
    readonly thumbprint: string,
  ) {}

  /** A fresh ES256 key pair. `extractable` defaults to false (keep it that way outside tests). */
  static async create(options: { extractable?: boolean } = {}): Promise<DeviceKey> {
    const pair = await generateKeyPair("ES256", { extractable: options.extractable ?? false });
    return DeviceKey.fromKeyPair(pair);
  }

  /** The pair already in `store`, or a new one saved there. Without a store, a new in-memory key. */
  static async loadOrCreate(store: KeyPairStore = new MemoryKeyPairStore()): Promise<DeviceKey> {
    const existing = await store.load();
    if (existing) return DeviceKey.fromKeyPair(existing);
    const created = await DeviceKey.create();
    await store.save({ privateKey: created.privateKey, publicKey: created.publicKey });
    return created;
  }

  /** Wraps an existing ECDSA P-256 pair (e.g. one a platform keystore produced). */
  static async fromKeyPair(pair: { privateKey: CryptoKey; publicKey: CryptoKey }): Promise<DeviceKey> {
    const full = await exportJWK(pair.publicKey);
    if (full.kty !== "EC" || full.crv !== "P-256" || typeof full.x !== "string" || typeof full.y !== "string") {
      throw new TypeError("the device key must be an ECDSA P-256 key pair");
    }
    const publicJwk: JWK = { kty: "EC", crv: "P-256", x: full.x, y: full.y };
    return new DeviceKey(pair.privateKey, pair.publicKey, publicJwk, await calculateJwkThumbprint(publicJwk, "sha256"));
  }

  /** A DPoP proof (RFC 9449): `typ: dpop+jwt`, ES256, the public JWK in the header; htm, htu, iat, jti, [ath, nonce]. */
  async dpopProof(options: DpopProofOptions): Promise<string> {
    const claims: Record<string, string> = { htm: options.method.toUpperCase(), htu: htuOf(options.url), jti: randomId() };
    if (options.accessToken !== undefined) claims.ath = await accessTokenHash(options.accessToken);
    if (options.nonce !== undefined) claims.nonce = options.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: this.publicJwk })
      .setIssuedAt(Math.floor((options.now ?? Date.now()) / 1000))
      .sign(this.privateKey);
  }

  /**
   * An OpenID4VCI key proof (appendix F.1): `typ: openid4vci-proof+jwt`, the key in `jwk`, `aud` the
   * issuer, `iat`, `nonce`. The issued credential is bound to this key: the wallet must keep it.
   */
  async keyProof(options: KeyProofOptions): Promise<string> {
    return new SignJWT({ nonce: options.nonce })
      .setProtectedHeader({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: this.publicJwk })
      .setAudience(options.audience)
      .setIssuedAt(Math.floor((options.now ?? Date.now()) / 1000))
      .sign(this.privateKey);
  }
}
