/** The register's one table (src/register/migrations); ensureRegisterSchema() checks for it by name. */
export const REGISTER_TABLE = "licence_holders";
