/**
 * The register schema as text, for ensureRegisterSchema() (tests, or a local database the migration
 * runner has not touched): the migration file itself, which deployments apply, imported as a string
 * (wrangler's default module rules load `.sql` as text; so does tools/lab/sdk.mjs's esbuild build).
 * Development only: the production Worker reads the table (src/register/table.ts), never creates it.
 */
import schemaSql from "./migrations/0001_licence_holders.sql";

export const REGISTER_SCHEMA_SQL: string = schemaSql;
