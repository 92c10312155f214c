/** The register's tables (src/register/migrations); ensureRegisterSchema() checks for them by name. */
export const REGISTER_TABLE = "licence_holders";
/** Licence status per holder (absent: valid), and its change log (0002_licence_status.sql). */
export const LICENCE_STATUS_TABLE = "licence_status";
export const LICENCE_CHANGES_TABLE = "licence_status_changes";
