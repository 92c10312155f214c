/**
 * The register schema as text, for ensureRegisterSchema() (tests, or a local database the migration
 * runner has not touched): the migration files themselves, which deployments apply, imported as strings
 * (wrangler's default module rules load `.sql` as text; so does tools/lab/sdk.mjs's esbuild build).
 * Development only: the production Worker reads the tables (src/register/table.ts), never creates them.
 */
import schemaSql from "./migrations/0001_licence_holders.sql";
import statusSql from "./migrations/0002_licence_status.sql";
import { LICENCE_STATUS_TABLE, REGISTER_TABLE } from "./table";

/** The first migration: the licence holders. */
export const REGISTER_SCHEMA_SQL: string = schemaSql;

/** Every migration in order, each with the table whose presence says it has been applied. */
export const REGISTER_MIGRATIONS: readonly { readonly table: string; readonly sql: string }[] = [
  { table: REGISTER_TABLE, sql: schemaSql },
  { table: LICENCE_STATUS_TABLE, sql: statusSql },
];
