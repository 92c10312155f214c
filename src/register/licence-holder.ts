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
