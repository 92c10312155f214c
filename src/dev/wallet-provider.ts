import { importJWK, SignJWT } from "jose";
import { z } from "zod";
import { DEV_WALLET_PROVIDER_CERT_PEM, DEV_WALLET_PROVIDER_KEY } from "../config/dev-wallet-provider";
import { pemToDer } from "../credentials/mdoc/pem";
import { bytesToBase64 } from "../lib/base64";

/**
 * The development wallet provider: wallet attestations (client authentication, `attest_jwt_client_auth`)
 * and key attestations (OpenID4VCI appendix D) for any key a caller names, signed by the development
 * wallet provider's certificate (x5c = [that certificate]; its CA is what WALLET_PROVIDER_ANCHORS
 * defaults to in development). A real wallet provider attests only keys it has seen in a secure element
 * of an app it has verified; this one attests whatever it is asked, which is why it exists only in the
 * development entry (src/dev/routes.ts) and its keys are public.
 */
export const DEV_WALLET_PROVIDER_ISSUER = "https://wallet-provider.dev.antichambre.invalid";

const PublicEcJwkSchema = z
  .object({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .loose()
  .refine((jwk) => !("d" in jwk), "a public key (no d)")
  .transform(({ kty, crv, x, y }) => ({ kty, crv, x, y }));

const Level = z.string().min(1).max(100);

export const WalletAttestationRequestSchema = z
  .object({ client_id: z.string().min(1).max(256), jwk: PublicEcJwkSchema, expires_in: z.number().int().min(1).max(86_400).optional() })
  .strict();

export const KeyAttestationRequestSchema = z
  .object({
    attested_keys: z.array(PublicEcJwkSchema).min(1).max(100),
    key_storage: z.array(Level).min(1).max(10),
    user_authentication: z.array(Level).min(1).max(10),
    nonce: z.string().min(1).max(1024).optional(),
    expires_in: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();

const DEFAULT_LIFETIME_SECONDS = 3600;

let signer: Promise<{ key: CryptoKey; x5c: string[] }> | null = null;

function devSigner() {
  signer ??= (async () => ({
    key: (await importJWK({ ...DEV_WALLET_PROVIDER_KEY, alg: "ES256" }, "ES256")) as CryptoKey,
    x5c: [bytesToBase64(pemToDer(DEV_WALLET_PROVIDER_CERT_PEM))],
  }))();
  return signer;
}

async function sign(typ: string, claims: Record<string, unknown>, nowMs: number, lifetime: number): Promise<string> {
  const { key, x5c } = await devSigner();
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ, x5c })
    .setIssuer(DEV_WALLET_PROVIDER_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(key);
}

export async function mintWalletAttestation(request: z.infer<typeof WalletAttestationRequestSchema>, nowMs: number) {
  const lifetime = request.expires_in ?? DEFAULT_LIFETIME_SECONDS;
  const jwt = await sign("oauth-client-attestation+jwt", { sub: request.client_id, cnf: { jwk: request.jwk } }, nowMs, lifetime);
  return { wallet_attestation: jwt, expires_in: lifetime };
}

export async function mintKeyAttestation(request: z.infer<typeof KeyAttestationRequestSchema>, nowMs: number) {
  const lifetime = request.expires_in ?? DEFAULT_LIFETIME_SECONDS;
  const claims = {
    attested_keys: request.attested_keys,
    key_storage: request.key_storage,
    user_authentication: request.user_authentication,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
  };
  return { key_attestation: await sign("key-attestation+jwt", claims, nowMs, lifetime), expires_in: lifetime };
}
