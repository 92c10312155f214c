import { z } from "zod";
import { verifyDpopProof } from "../auth/dpop";
import { JKT_PATTERN } from "../auth/jkt";
import { secret, type Env } from "../config/env";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";
import { CREDENTIAL_CONFIGURATIONS, isCredentialConfigurationId, scopeOfConfiguration } from "../issuance/configurations";
import { openGrant } from "../issuance/grants";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { authenticateClient } from "./client-attestation";
import { CODE_CHALLENGE_PATTERN } from "./pkce";

/**
 * Pushed authorization requests (RFC 9126), the only way into /authorize (HAIP 1.0 requires PAR).
 *
 * The wallet authenticates with its wallet attestation (src/oauth/client-attestation.ts), so the
 * request it pushes is tied to an attested wallet before any browser is involved. What it asks is
 * checked here, once, and sealed into the `request_uri` itself (AES-GCM, src/tickets/sealed.ts): no
 * storage per pushed request, nothing a browser can read or alter. The request_uri lives 90 seconds
 * (RFC 9126 §2.2 suggests short lives; the wallet opens the browser at once) and is used once: its id is
 * claimed in the replay guard when /authorize takes it.
 */
export const REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:";
export const PAR_LIFETIME_SECONDS = 90;

/** The form a wallet pushes (RFC 9126 §2.1): unknown parameters are ignored, as RFC 6749 §3.1 says. */
export const ParFormSchema = z.object({
  response_type: z.string().max(64),
  client_id: z.string().min(1).max(256),
  redirect_uri: z.string().min(1).max(512),
  code_challenge: z.string().max(128),
  code_challenge_method: z.string().max(16).optional(),
  state: z.string().min(1).max(512).optional(),
  scope: z.string().max(1024).optional(),
  authorization_details: z.string().max(2048).optional(),
  dpop_jkt: z.string().max(64).optional(),
  issuer_state: z.string().max(2048).optional(),
});
export type ParForm = z.infer<typeof ParFormSchema>;

/** What a checked authorization request carries from PAR to /authorize, the browser's cookie, and the code. */
export const AuthorizationRequestSchema = z.object({
  /** client_id (the wallet attestation's `sub`). */
  cid: z.string().min(1).max(256),
  ru: z.string().min(1).max(512),
  st: z.string().max(512).optional(),
  /** PKCE S256 code challenge. */
  cc: z.string().regex(CODE_CHALLENGE_PATTERN),
  /** The credential configurations asked for. */
  cfg: z.array(z.string().max(200)).min(1).max(8),
  /** authorization_details was used: the token response must name them (OpenID4VCI 1.0 §6.2). */
  ad: z.boolean(),
  /** dpop_jkt (RFC 9449 §10): the key the code is bound to. */
  jkt: z.string().regex(JKT_PATTERN).optional(),
});
export type AuthorizationRequest = z.infer<typeof AuthorizationRequestSchema>;

const PushedRequestSchema = z.object({ rid: z.string().min(16).max(64), req: AuthorizationRequestSchema, exp: z.number() });

/** Schemes a browser must never be sent to with a code. */
const FORBIDDEN_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "file:", "blob:", "about:"]);

function checkRedirectUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApiError("invalid_request", "redirect_uri must be an absolute URI");
  }
  if (url.hash !== "" || value.includes("#"))
    throw new ApiError("invalid_request", "redirect_uri must not have a fragment (RFC 6749 §3.1.2)");
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new ApiError("invalid_request", `redirect_uri may not use ${url.protocol}`);
  return value;
}

const AuthorizationDetailsSchema = z
  .array(
    z.looseObject({
      type: z.literal("openid_credential"),
      credential_configuration_id: z.string().min(1).max(200),
      locations: z.array(z.string()).optional(),
    }),
  )
  .min(1)
  .max(8);

/** The credential configurations asked for, by scope and by authorization_details (OpenID4VCI 1.0 §5.1). */
function requestedConfigurations(form: ParForm, issuer: string): { configurations: string[]; byDetails: boolean } {
  const asked = new Set<string>();
  if (form.scope !== undefined) {
    for (const scope of form.scope.split(" ").filter(Boolean)) {
      const id = Object.values(CREDENTIAL_CONFIGURATIONS).find((c) => scopeOfConfiguration(c) === scope);
      if (!id) throw new ApiError("invalid_scope", `unknown scope "${scope.slice(0, 64)}"`);
      asked.add(id);
    }
  }
  let byDetails = false;
  if (form.authorization_details !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(form.authorization_details);
    } catch {
      throw new ApiError("invalid_request", "authorization_details must be a JSON array", {
        extras: { reason: "invalid_authorization_details" },
      });
    }
    const details = AuthorizationDetailsSchema.safeParse(parsed);
    if (!details.success)
      throw new ApiError(
        "invalid_request",
        "authorization_details must be objects of type openid_credential with a credential_configuration_id",
        {
          extras: { reason: "invalid_authorization_details" },
        },
      );
    for (const d of details.data) {
      if (!isCredentialConfigurationId(d.credential_configuration_id))
        throw new ApiError("invalid_request", `unknown credential configuration "${d.credential_configuration_id.slice(0, 64)}"`, {
          extras: { reason: "invalid_authorization_details" },
        });
      if (d.locations && !d.locations.every((l) => l === issuer))
        throw new ApiError("invalid_request", "authorization_details names another credential issuer", {
          extras: { reason: "invalid_authorization_details" },
        });
      asked.add(d.credential_configuration_id);
    }
    byDetails = true;
  }
  if (asked.size === 0)
    throw new ApiError("invalid_scope", "ask for a credential: a scope of a credential configuration, or authorization_details");
  return { configurations: [...asked], byDetails };
}

export interface PushedRequest {
  request_uri: string;
  expires_in: number;
}

/**
 * POST /par: the wallet attestation first (RFC 9126 §2.1: the client authenticates as at the token
 * endpoint), then the request. Nothing is stored: the answer is the sealed request.
 */
export async function pushAuthorizationRequest(
  env: Env,
  input: { form: ParForm; attestation?: string; pop?: string; dpop?: string; url: string; issuer: string; now: number },
): Promise<PushedRequest> {
  const { form, now, issuer } = input;
  const client = await authenticateClient(
    env,
    { attestation: input.attestation, pop: input.pop },
    { issuer, now, clientId: form.client_id },
  );
  if (client.clientId !== form.client_id)
    throw new ApiError("invalid_client", "client_id is not the wallet attestation's subject", { extras: { reason: "client_id_mismatch" } });
  if (form.response_type !== "code")
    throw new ApiError("invalid_request", "response_type must be code", { extras: { reason: "unsupported_response_type" } });
  if (form.code_challenge_method !== "S256" || !CODE_CHALLENGE_PATTERN.test(form.code_challenge))
    throw new ApiError("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256");
  const redirectUri = checkRedirectUri(form.redirect_uri);
  const { configurations, byDetails } = requestedConfigurations(form, issuer);
  if (form.dpop_jkt !== undefined && !JKT_PATTERN.test(form.dpop_jkt))
    throw new ApiError("invalid_request", "dpop_jkt must be a JWK SHA-256 thumbprint");
  let jkt = form.dpop_jkt;
  if (input.dpop !== undefined) {
    // RFC 9449 §10.1: a DPoP proof at the PAR endpoint binds the code to its key, as dpop_jkt does.
    const proof = await verifyDpopProof(input.dpop, { method: "POST", url: input.url }, now);
    if (!proof.ok)
      throw new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${proof.reason.replaceAll("_", " ")})`, {
        status: 400,
        extras: { reason: proof.reason },
      });
    if (jkt !== undefined && jkt !== proof.jkt) throw new ApiError("invalid_request", "dpop_jkt is not the DPoP proof's key");
    jkt = proof.jkt;
  }
  const request: AuthorizationRequest = {
    cid: form.client_id,
    ru: redirectUri,
    ...(form.state !== undefined ? { st: form.state } : {}),
    cc: form.code_challenge,
    cfg: configurations,
    ad: byDetails,
    ...(jkt !== undefined ? { jkt } : {}),
  };
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const sealed = await seal(ring, "par-request", { rid: crypto.randomUUID(), req: request }, now, now + PAR_LIFETIME_SECONDS * 1000);
  return { request_uri: `${REQUEST_URI_PREFIX}${sealed}`, expires_in: PAR_LIFETIME_SECONDS };
}

/** Why /authorize refuses a request_uri: it cannot redirect then (RFC 6749 §4.1.2.1), so it shows a page. */
export type RequestUriRefusal = "missing" | "invalid" | "expired" | "used" | "client_mismatch";

/**
 * /authorize takes the pushed request: valid, not expired, for this client_id, and never taken before
 * (claimed once, until it would have expired anyway).
 */
export async function takePushedRequest(
  env: Env,
  input: { clientId: string | undefined; requestUri: string | undefined; now: number },
): Promise<{ ok: true; request: AuthorizationRequest } | { ok: false; reason: RequestUriRefusal }> {
  if (!input.requestUri || !input.clientId) return { ok: false, reason: "missing" };
  if (!input.requestUri.startsWith(REQUEST_URI_PREFIX)) return { ok: false, reason: "invalid" };
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const opened = await openGrant(ring, "par-request", PushedRequestSchema, input.requestUri.slice(REQUEST_URI_PREFIX.length), input.now);
  if (!opened.ok) return { ok: false, reason: opened.reason === "expired" ? "expired" : "invalid" };
  if (opened.claims.req.cid !== input.clientId) return { ok: false, reason: "client_mismatch" };
  if (!(await claimOnce(env, "par", opened.claims.rid, opened.claims.exp * 1000 + 60_000))) return { ok: false, reason: "used" };
  return { ok: true, request: opened.claims.req };
}
