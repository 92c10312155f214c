import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { clock } from "../../src/lib/clock";
import { serverDpopNonce } from "./dpop-nonce";

/** A phone: a P-256 key pair that signs DPoP proofs, as the mobile app does with its secure element. */
export interface Device {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  proof(method: string, url: string, options?: DpopOptions): Promise<string>;
}

export interface DpopOptions {
  iat?: number;
  jti?: string;
  typ?: string;
  htm?: string;
  htu?: string;
  /**
   * The DPoP server nonce (RFC 9449 §8) the proof carries: by default the one the server hands out now
   * (harmless where none is required, as at the join); null for none.
   */
  nonce?: string | null;
  /** Sign with this key while embedding the device's public key (a forged proof). */
  signWith?: CryptoKey;
}

let counter = 0;

export async function newDevice(): Promise<Device> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    privateKey,
    publicJwk,
    async proof(method, url, o = {}) {
      return new SignJWT({
        htm: o.htm ?? method,
        htu: o.htu ?? url,
        jti: o.jti ?? `jti-${clock.now()}-${counter++}-${Math.random()}`,
        ...(o.nonce === null ? {} : { nonce: o.nonce ?? (await serverDpopNonce()) }),
      })
        .setProtectedHeader({ alg: "ES256", typ: o.typ ?? "dpop+jwt", jwk: publicJwk })
        .setIssuedAt(o.iat ?? Math.floor(clock.now() / 1000))
        .sign(o.signWith ?? privateKey);
    },
  };
}
