/**
 * Versioned schema migrations for a Durable Object's SQLite storage.
 *
 * Each object lists its migrations in order; the applied count is kept in a one-row table, and only
 * the steps past it run, each inside the object's implicit transaction (the constructor's writes are
 * atomic with nothing awaited in between). Appending a step is the only way to change a schema: a step
 * already shipped is never edited, so every stored object, however old, reaches the same tables.
 */
export type Migration = string | ((sql: SqlStorage) => void);

export function migrate(sql: SqlStorage, steps: readonly Migration[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const applied = sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version ?? 0;
  for (let i = applied; i < steps.length; i++) {
    const step = steps[i]!;
    if (typeof step === "string") sql.exec(step);
    else step(sql);
  }
  if (steps.length > applied) sql.exec("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)", steps.length);
}
