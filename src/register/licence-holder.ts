/**
 * One row of the national licence register, as the issuance handlers read it.
 * Dates are ISO full-dates (YYYY-MM-DD). Synthetic in development (see seed.ts); never logged.
 */
export interface DrivingPrivilege {
  /** ISO 18013-5 / EU categories: AM, A1, A2, A, B1, B, C1, C, D1, D, BE, C1E, CE, D1E, DE. */
  readonly vehicle_category_code: string;
  readonly issue_date?: string;
  readonly expiry_date?: string;
  readonly codes?: readonly { readonly code: string; readonly sign?: string; readonly value?: string }[];
}

export interface LicenceHolder {
  /** The national identity service's person identifier (the identity assertion's `sub`). */
  readonly person_id: string;
  readonly family_name: string;
  readonly given_name: string;
  readonly birth_date: string;
  readonly issue_date: string;
  readonly expiry_date: string;
  /** Always "FR" here; must equal C= of the Document Signer certificate. */
  readonly issuing_country: string;
  readonly issuing_authority: string;
  readonly document_number: string;
  /** JPEG bytes. */
  readonly portrait: Uint8Array;
  readonly driving_privileges: readonly DrivingPrivilege[];
  /** "F" for France. */
  readonly un_distinguishing_sign: string;
}

/**
 * What the register says of the licence itself, apart from its dates: a licence can be suspended (for a
 * time, it may come back) or withdrawn (for good: a new licence would be a new document). Issuance
 * refuses both; credentials already issued follow it (src/lifecycle/register-sync.ts).
 */
export const LICENCE_STATUSES = ["valid", "suspended", "withdrawn"] as const;
export type LicenceStatus = (typeof LICENCE_STATUSES)[number];

/** A register row with its status: what issuance reads (LicenceRegister.findLicence). */
export interface Licence {
  readonly holder: LicenceHolder;
  readonly status: LicenceStatus;
}
