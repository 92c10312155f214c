-- Licence status: valid, suspended or withdrawn. A holder with no row here is valid (most are).
-- licence_status_changes is the register's change log: every status change appends a row (the triggers
-- below, so no writer can change a status without it), and the issuer reads it in `seq` order from the
-- last cursor it applied (src/lifecycle/register-sync.ts). IF NOT EXISTS, as in 0001: ensureRegisterSchema()
-- may have run this file before the migration runner did. A trigger is written on one line: the
-- statements are split at a semicolon that ends a line (src/register/seed.ts).
CREATE TABLE IF NOT EXISTS licence_status (
  person_id TEXT PRIMARY KEY NOT NULL REFERENCES licence_holders (person_id),
  status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'withdrawn')),
  changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS licence_status_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  person_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'withdrawn')),
  changed_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS licence_status_set AFTER INSERT ON licence_status BEGIN INSERT INTO licence_status_changes (person_id, status, changed_at) VALUES (NEW.person_id, NEW.status, NEW.changed_at); END;
CREATE TRIGGER IF NOT EXISTS licence_status_changed AFTER UPDATE OF status ON licence_status WHEN NEW.status <> OLD.status BEGIN INSERT INTO licence_status_changes (person_id, status, changed_at) VALUES (NEW.person_id, NEW.status, NEW.changed_at); END;
