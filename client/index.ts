/**
 * Antichambre client SDK: what the mobile app (or a web page, or a load generator) uses to join the
 * waiting room, wait, and redeem the admission for a digital driving licence over OpenID4VCI.
 * Only fetch, WebCrypto and jose; no Node APIs. Joins solve the room's proof of work when it asks. See
 * antichambre-client.ts for the walkthrough.
 */
export { DeviceKey, MemoryKeyPairStore, accessTokenHash, htuOf } from "./device-key";
export type { DpopProofOptions, KeyPairStore, KeyProofOptions } from "./device-key";
export { solveProofOfWork, MAX_SOLVABLE_BITS } from "./proof-of-work";
export { denialText, LICENCE_DENIAL_REASONS } from "../src/issuance/denial-reasons";
export type { LicenceDenialReason } from "../src/issuance/denial-reasons";
export type { PowSolution, SolveOptions } from "./proof-of-work";
export {
  AdmissionExpiredError,
  AntichambreClient,
  AntichambreError,
  CredentialDeniedError,
  DEFAULT_RETRY_POLICY,
  MAX_POW_ROUNDS,
  MAX_PREQUEUE_WAITS,
  MDOC_CONFIGURATION,
  NetworkError,
  PRE_AUTHORIZED_GRANT,
  PREQUEUE_SPREAD_MS,
  PrequeueNotOpenError,
  ProtocolError,
  SD_JWT_CONFIGURATION,
  UnavailableError,
  defaultSleep,
  parseCredentialOfferUri,
} from "./antichambre-client";
export type {
  AdmittedStatus,
  AntichambreClientOptions,
  CredentialOffer,
  ExpiredStatus,
  FetchLike,
  HandoffApproval,
  IssuanceSession,
  IssuedCredential,
  IssuedCredentials,
  IssuerEndpoints,
  JoinResult,
  NotificationEvent,
  Problem,
  RetryInfo,
  RetryPolicy,
  RoomInfo,
  SleepFn,
  TicketStatus,
  WaitingStatus,
} from "./antichambre-client";
