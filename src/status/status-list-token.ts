import { base64url, SignJWT } from "jose";
import { encodeCbor, Tag } from "../credentials/mdoc/cbor";
import { signCoseSign1 } from "../credentials/mdoc/cose-sign1";
import type { StatusListSigner } from "./status-signer";
import { STATUS_BITS } from "./status-values";
import { bytesToBase64 } from "../lib/base64";

/**
 * Status List Tokens (draft-ietf-oauth-status-list §5 JWT, §6 CWT): a list's status array, zlib-deflated
 * (RFC 1950, what CompressionStream("deflate") produces), signed by the status list signer with its
 * certificate in the header (x5c / x5chain, the IACA left out as for every other signature here).
 *
 * Claims: `sub` the list's uri (the `uri` credentials carry), `iat`, `exp`, `ttl` (how long a verifier
 * or cache may keep it), `status_list {bits: 2, lst}`. `exp` is a day after `iat`: a verifier that
 * cannot reach us for a while still has a signed answer, while `ttl` (STATUS_LIST_TTL_SECONDS, minutes)
 * says how stale a well-connected one may be.
 */
export const STATUS_LIST_JWT_TYP = "statuslist+jwt";
export const STATUS_LIST_CWT_TYPE = "application/statuslist+cwt";
export const STATUS_LIST_JWT_TYPE = "application/statuslist+jwt";
export const TOKEN_LIFETIME_SECONDS = 86_400;

/** CWT claim keys: RFC 8392 and the draft's registrations. */
const CWT_SUB = 2;
const CWT_EXP = 4;
const CWT_IAT = 6;
const CWT_STATUS_LIST = 65533;
const CWT_TTL = 65534;
/** RFC 9596 COSE `typ` header. */
const COSE_HEADER_TYP = 16;
/** RFC 9052 COSE_Sign1 tag. */
const TAG_COSE_SIGN1 = 18;

export interface StatusListContent {
  /** The list's uri: the token's `sub`. */
  readonly uri: string;
  /** The status array, STATUS_BITS per entry. */
  readonly bits: Uint8Array;
  /** Whole seconds since the epoch. */
  readonly issuedAt: number;
  readonly ttlSeconds: number;
}

/** zlib (RFC 1950) deflate, as the draft's `lst` asks, with the runtime's own compressor. */
export async function zlibDeflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function statusListJwt(content: StatusListContent, signer: StatusListSigner): Promise<string> {
  const lst = base64url.encode(await zlibDeflate(content.bits));
  return new SignJWT({ status_list: { bits: STATUS_BITS, lst }, ttl: content.ttlSeconds })
    .setProtectedHeader({ alg: "ES256", typ: STATUS_LIST_JWT_TYP, x5c: [bytesToBase64(signer.certificateDer)] })
    .setSubject(content.uri)
    .setIssuedAt(content.issuedAt)
    .setExpirationTime(content.issuedAt + TOKEN_LIFETIME_SECONDS)
    .sign(signer.key);
}

export async function statusListCwt(content: StatusListContent, signer: StatusListSigner): Promise<Uint8Array> {
  const lst = await zlibDeflate(content.bits);
  const claims = new Map<number, string | number | Map<string, number | Uint8Array>>([
    [CWT_SUB, content.uri],
    [CWT_IAT, content.issuedAt],
    [CWT_EXP, content.issuedAt + TOKEN_LIFETIME_SECONDS],
    [CWT_TTL, content.ttlSeconds],
    [
      CWT_STATUS_LIST,
      new Map<string, number | Uint8Array>([
        ["bits", STATUS_BITS],
        ["lst", lst],
      ]),
    ],
  ]);
  const sign1 = await signCoseSign1(encodeCbor(claims), {
    key: signer.key,
    x5chain: [signer.certificateDer],
    protectedHeaders: new Map([[COSE_HEADER_TYP, STATUS_LIST_CWT_TYPE]]),
  });
  return encodeCbor(new Tag(sign1, TAG_COSE_SIGN1));
}
