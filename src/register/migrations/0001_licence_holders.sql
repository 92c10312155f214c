-- The national licence register: one row per person holding a driving licence.
-- Applied by "wrangler d1 migrations apply REGISTER" (npm start does it locally), or by
-- ensureRegisterSchema() where no migration runner exists (tests), which imports this file as text
-- (src/register/schema.ts). IF NOT EXISTS because either path may have created the table first.
CREATE TABLE IF NOT EXISTS licence_holders (
  person_id TEXT PRIMARY KEY NOT NULL,
  family_name TEXT NOT NULL,
  given_name TEXT NOT NULL,
  birth_date TEXT NOT NULL CHECK (birth_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  issue_date TEXT NOT NULL CHECK (issue_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  expiry_date TEXT NOT NULL CHECK (expiry_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  document_number TEXT NOT NULL UNIQUE,
  issuing_authority TEXT NOT NULL,
  issuing_country TEXT NOT NULL CHECK (length(issuing_country) = 2),
  un_distinguishing_sign TEXT NOT NULL,
  portrait BLOB NOT NULL,
  -- JSON array of {vehicle_category_code, issue_date?, expiry_date?, codes?: [{code, sign?, value?}]}.
  driving_privileges TEXT NOT NULL CHECK (json_valid(driving_privileges) AND json_type(driving_privileges) = 'array')
);
