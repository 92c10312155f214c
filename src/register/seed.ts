/**
 * A deterministic synthetic population for the licence register: the same 10,000 French licence holders
 * on every machine and every run, so tests, the local `npm start` and the surge lab all talk about the
 * same people (FR-000042 is always the same person with the same document number and portrait).
 *
 * Each holder is a pure function of its index n: a small PRNG (mulberry32) seeded from n draws every
 * field, so holders can be generated in any order, one at a time, without generating the others.
 * Nothing here uses Math.random or the clock. Person ids FR-000001 … FR-010000 have a licence; any
 * other id (FR-010001 and up, or anything else) has none, which is how "no licence" is exercised.
 *
 * Nobody here is real: names come from lists of common French given and family names, dates and numbers
 * are drawn, portraits are four 16×16 drawings (portraits.ts).
 */
import type { DrivingPrivilege, LicenceHolder, LicenceStatus } from "./licence-holder";
import { PORTRAITS } from "./portraits";
import { REGISTER_MIGRATIONS } from "./schema";
import { LICENCE_STATUS_TABLE, REGISTER_TABLE } from "./table";

/** How many people hold a licence in the synthetic register. */
export const REGISTER_POPULATION = 10_000;

/** The date the population is drawn "as of": no licence is issued after it; some have expired by then. */
export const POPULATION_AS_OF = "2026-10-31";

/** Validity of the card (and of categories A and B), in years. */
const CARD_VALIDITY_YEARS = 15;
/** Validity of categories C and D (medical check), in years. */
const HEAVY_VALIDITY_YEARS = 5;
/** From this date the ANTS, not the préfectures, issues licences (plan préfectures nouvelle génération). */
const ANTS_FROM = "2017-11-06";

/** `FR-` and six digits: the identity service's person id for holder n. */
export function personIdFor(n: number): string {
  return `FR-${String(n).padStart(6, "0")}`;
}

/** The holder index of a person id of the synthetic register, or null if it has no licence there. */
export function holderIndexOf(personId: string): number | null {
  const m = /^FR-(\d{6})$/.exec(personId);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= REGISTER_POPULATION ? n : null;
}

// ---- deterministic randomness ------------------------------------------------------------------------

/** mulberry32: 32-bit state, full period, good enough to spread synthetic data; not cryptographic. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A per-holder stream: n is scrambled (a Murmur3 finaliser) so neighbouring holders are unrelated. */
function streamFor(n: number): Rng {
  let h = Math.imul(n ^ 0x5eed_1e55, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return new Rng(mulberry32(h));
}

class Rng {
  constructor(private readonly next: () => number) {}
  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

// ---- dates, as days since 1970-01-01 (UTC), so no time zone can shift them -----------------------------

const DAY_MS = 86_400_000;

function dayOf(iso: string): number {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The same calendar day `years` later (29 February becomes 28 February in a common year). */
function addYears(iso: string, years: number): string {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y + years, m - 1, d));
  if (date.getUTCMonth() !== m - 1) date.setUTCDate(0);
  return date.toISOString().slice(0, 10);
}

// ---- names and places ----------------------------------------------------------------------------------

/** Given names by birth period (what was common then), men and women. */
const GIVEN_NAMES: readonly { readonly until: number; readonly male: readonly string[]; readonly female: readonly string[] }[] = [
  {
    until: 1959,
    male: [
      "Jean",
      "Michel",
      "Pierre",
      "André",
      "Philippe",
      "Alain",
      "Bernard",
      "Jacques",
      "Daniel",
      "Gérard",
      "Claude",
      "René",
      "Christian",
      "Roger",
      "Jean-Pierre",
      "Jean-Claude",
      "Marcel",
      "Serge",
      "Guy",
      "Yves",
    ],
    female: [
      "Marie",
      "Monique",
      "Françoise",
      "Nicole",
      "Jacqueline",
      "Christiane",
      "Annie",
      "Danielle",
      "Colette",
      "Josette",
      "Michèle",
      "Geneviève",
      "Simone",
      "Denise",
      "Marie-Claude",
      "Odette",
      "Huguette",
      "Paulette",
      "Yvette",
      "Chantal",
    ],
  },
  {
    until: 1979,
    male: [
      "Christophe",
      "Stéphane",
      "Laurent",
      "Frédéric",
      "Olivier",
      "Éric",
      "Pascal",
      "Thierry",
      "Patrick",
      "David",
      "Sébastien",
      "Franck",
      "Didier",
      "Bruno",
      "Jean-Marc",
      "Vincent",
      "Hervé",
      "Lionel",
      "Cédric",
      "Emmanuel",
    ],
    female: [
      "Nathalie",
      "Isabelle",
      "Sandrine",
      "Valérie",
      "Véronique",
      "Sylvie",
      "Catherine",
      "Martine",
      "Sophie",
      "Corinne",
      "Karine",
      "Christine",
      "Brigitte",
      "Patricia",
      "Florence",
      "Laurence",
      "Anne-Marie",
      "Pascale",
      "Hélène",
      "Agnès",
    ],
  },
  {
    until: 1994,
    male: [
      "Nicolas",
      "Julien",
      "Guillaume",
      "Thomas",
      "Jérôme",
      "Mickaël",
      "Romain",
      "Anthony",
      "Maxime",
      "Alexandre",
      "Kévin",
      "Mathieu",
      "Benjamin",
      "Florian",
      "Jonathan",
      "Adrien",
      "Damien",
      "Yannick",
      "Karim",
      "Mehdi",
    ],
    female: [
      "Céline",
      "Stéphanie",
      "Aurélie",
      "Émilie",
      "Julie",
      "Audrey",
      "Élodie",
      "Virginie",
      "Caroline",
      "Mélanie",
      "Laetitia",
      "Marion",
      "Sarah",
      "Anne-Sophie",
      "Amandine",
      "Jessica",
      "Laura",
      "Claire",
      "Nadia",
      "Samia",
    ],
  },
  {
    until: 9999,
    male: [
      "Lucas",
      "Hugo",
      "Théo",
      "Enzo",
      "Mathis",
      "Nathan",
      "Louis",
      "Clément",
      "Quentin",
      "Antoine",
      "Baptiste",
      "Valentin",
      "Léo",
      "Tom",
      "Yanis",
      "Gabriel",
      "Arthur",
      "Jules",
      "Ethan",
      "Rayan",
    ],
    female: [
      "Camille",
      "Manon",
      "Léa",
      "Chloé",
      "Emma",
      "Inès",
      "Océane",
      "Marine",
      "Anaïs",
      "Clara",
      "Lucie",
      "Pauline",
      "Mathilde",
      "Jade",
      "Lina",
      "Zoé",
      "Louise",
      "Maëlys",
      "Juliette",
      "Yasmine",
    ],
  },
];

const FAMILY_NAMES: readonly string[] = [
  "Martin",
  "Bernard",
  "Thomas",
  "Petit",
  "Robert",
  "Richard",
  "Durand",
  "Dubois",
  "Moreau",
  "Laurent",
  "Simon",
  "Michel",
  "Lefebvre",
  "Leroy",
  "Roux",
  "David",
  "Bertrand",
  "Morel",
  "Fournier",
  "Girard",
  "Bonnet",
  "Dupont",
  "Lambert",
  "Fontaine",
  "Rousseau",
  "Vincent",
  "Muller",
  "Lefèvre",
  "Faure",
  "André",
  "Mercier",
  "Blanc",
  "Guérin",
  "Boyer",
  "Garnier",
  "Chevalier",
  "François",
  "Legrand",
  "Gauthier",
  "Garcia",
  "Perrin",
  "Robin",
  "Clément",
  "Morin",
  "Nicolas",
  "Henry",
  "Roussel",
  "Mathieu",
  "Gautier",
  "Masson",
  "Marchand",
  "Duval",
  "Denis",
  "Dumont",
  "Marie",
  "Lemaire",
  "Noël",
  "Meyer",
  "Dufour",
  "Meunier",
  "Brun",
  "Blanchard",
  "Giraud",
  "Joly",
  "Rivière",
  "Lucas",
  "Brunet",
  "Gaillard",
  "Barbier",
  "Arnaud",
  "Martinez",
  "Gérard",
  "Roche",
  "Renard",
  "Schmitt",
  "Roy",
  "Leroux",
  "Colin",
  "Vidal",
  "Caron",
  "Picard",
  "Roger",
  "Fabre",
  "Aubert",
  "Lemoine",
  "Renaud",
  "Dumas",
  "Lacroix",
  "Olivier",
  "Philippe",
  "Bourgeois",
  "Pierre",
  "Benoît",
  "Rey",
  "Leclerc",
  "Payet",
  "Rolland",
  "Leclercq",
  "Guillaume",
  "Lecomte",
  "Le Gall",
  "Le Goff",
  "Le Bihan",
  "Da Silva",
  "Dos Santos",
  "Nguyen",
  "Haddad",
  "Diallo",
  "Benali",
  "Kowalski",
  "Lopez",
  "Sanchez",
  "Ferreira",
  "Traoré",
  "Cohen",
  "Hoarau",
  "Fontaine-Duval",
  "Saint-Martin",
  "Delacroix",
  "Marchal",
];

/** Préfectures that issued licences before ANTS took over (as printed in field 4c). */
const PREFECTURES: readonly string[] = [
  "Préfecture de police de Paris",
  "Préfecture du Rhône",
  "Préfecture des Bouches-du-Rhône",
  "Préfecture du Nord",
  "Préfecture de la Gironde",
  "Préfecture de la Haute-Garonne",
  "Préfecture de la Loire-Atlantique",
  "Préfecture du Bas-Rhin",
  "Préfecture de l'Hérault",
  "Préfecture des Alpes-Maritimes",
  "Préfecture d'Ille-et-Vilaine",
  "Préfecture de l'Isère",
  "Préfecture du Finistère",
  "Préfecture de la Moselle",
  "Préfecture du Calvados",
  "Préfecture des Yvelines",
  "Préfecture de la Seine-Saint-Denis",
  "Préfecture du Puy-de-Dôme",
  "Préfecture de la Côte-d'Or",
  "Préfecture de La Réunion",
];
const ANTS = "ANTS (Agence nationale des titres sécurisés)";

const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

// ---- one holder ----------------------------------------------------------------------------------------

/**
 * Holder n of the synthetic register (1 ≤ n ≤ 10,000), always the same for the same n.
 * Throws RangeError for any other n: those people have no licence.
 */
export function syntheticHolder(n: number): LicenceHolder {
  if (!Number.isInteger(n) || n < 1 || n > REGISTER_POPULATION) {
    throw new RangeError(`synthetic licence holders are numbered 1..${REGISTER_POPULATION}, not ${n}`);
  }
  const rng = streamFor(n);
  const asOf = dayOf(POPULATION_AS_OF);

  const birthDay = rng.int(dayOf("1940-01-01"), dayOf("2007-12-31"));
  const birth = isoOf(birthDay);
  const birthYear = Number(birth.slice(0, 4));
  const female = rng.chance(0.5);
  const names = GIVEN_NAMES.find((g) => birthYear <= g.until)!;
  const given = rng.pick(female ? names.female : names.male);
  const family = rng.pick(FAMILY_NAMES);

  // First licence: from the 18th birthday, usually within a few years of it.
  const eighteen = dayOf(addYears(birth, 18));
  const firstLicenceDay = Math.min(asOf, eighteen + Math.floor(-Math.log(1 - rng.float()) * 700));
  // The card held now: issued (first licence, renewal, replacement or exchange for the pink card) on a day
  // between 2008 and the as-of date, never before the first licence. About one in six has expired.
  const issueDay = rng.int(Math.max(firstLicenceDay, dayOf("2008-01-01")), asOf);
  const issue = isoOf(issueDay);
  const expiry = addYears(issue, CARD_VALIDITY_YEARS);

  return {
    person_id: personIdFor(n),
    family_name: family,
    given_name: given,
    birth_date: birth,
    issue_date: issue,
    expiry_date: expiry,
    issuing_country: "FR",
    issuing_authority: issue < ANTS_FROM ? rng.pick(PREFECTURES) : ANTS,
    document_number: documentNumber(n, issue, rng),
    portrait: PORTRAITS[n % PORTRAITS.length]!,
    driving_privileges: privileges(rng, firstLicenceDay, issueDay, expiry),
    un_distinguishing_sign: "F",
  };
}

/**
 * 12 characters: issue year (2 digits), 2 letters, 6 digits, 2 check digits. The 6 digits are n
 * scrambled by a bijection of 0..999,999 (multiplication by 7,919, which is prime to 10⁶), so document
 * numbers are unique by construction yet do not reveal the holder's index.
 */
function documentNumber(n: number, issue: string, rng: Rng): string {
  const serial = String((n * 7_919 + 318_259) % 1_000_000).padStart(6, "0");
  const letters = rng.pick([...LETTERS]) + rng.pick([...LETTERS]);
  const body = issue.slice(2, 4) + letters + serial;
  let check = 0;
  for (const ch of body) check = (check * 31 + ch.charCodeAt(0)) % 97;
  return body + String(check).padStart(2, "0");
}

type Category = "AM" | "A1" | "A2" | "A" | "B1" | "B" | "BE" | "C1" | "C1E" | "C" | "CE" | "D1" | "D1E" | "D" | "DE";

/** Extra categories beyond B, with how often holders have them (before the cap of four in all). */
const EXTRA_CATEGORIES: readonly { readonly code: Category; readonly p: number; readonly needs?: Category }[] = [
  { code: "AM", p: 0.1 },
  { code: "A2", p: 0.08 },
  { code: "A", p: 0.12 },
  { code: "A1", p: 0.04 },
  { code: "BE", p: 0.1, needs: "B" },
  { code: "C1", p: 0.03, needs: "B" },
  { code: "C", p: 0.05, needs: "B" },
  { code: "CE", p: 0.5, needs: "C" },
  { code: "C1E", p: 0.3, needs: "C1" },
  { code: "D1", p: 0.01, needs: "B" },
  { code: "D", p: 0.02, needs: "B" },
  { code: "DE", p: 0.2, needs: "D" },
];
const HEAVY = new Set<Category>(["C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE"]);

/**
 * 1 to 4 categories. Almost everyone has B (from the first licence); some have motorcycle, trailer or
 * heavy-vehicle categories obtained later. A and B categories are valid as long as the card; C and D
 * need a medical check every five years. Codes: 01.0x (vision correction), 78 (automatic gearbox only),
 * 96 (B with a heavier trailer), 95 with a date (professional competence, C and D drivers).
 */
function privileges(rng: Rng, firstDay: number, issueDay: number, cardExpiry: string): DrivingPrivilege[] {
  const first = isoOf(firstDay);
  const held = new Map<Category, DrivingPrivilege>();
  const add = (code: Category, since: string, codes: DrivingPrivilege["codes"]) => {
    const expiry = HEAVY.has(code) ? minIso(addYears(isoOf(issueDay), HEAVY_VALIDITY_YEARS), cardExpiry) : cardExpiry;
    held.set(code, {
      vehicle_category_code: code,
      issue_date: since,
      expiry_date: expiry,
      ...(codes && codes.length > 0 ? { codes } : {}),
    });
  };
  const visionCode = rng.chance(0.18) ? [{ code: rng.pick(["01.01", "01.02", "01.06"]) }] : [];

  if (rng.chance(0.96)) {
    const codes = [...visionCode];
    if (rng.chance(0.04)) codes.push({ code: "78" });
    if (rng.chance(0.03)) codes.push({ code: "96" });
    add("B", first, codes);
  } else {
    add(rng.pick<Category>(["AM", "A1", "A2", "A"]), first, visionCode);
  }
  for (const extra of EXTRA_CATEGORIES) {
    if (held.size >= 4) break;
    if (held.has(extra.code) || (extra.needs && !held.has(extra.needs)) || !rng.chance(extra.p)) continue;
    // Obtained after the category it builds on (or the first licence), and by the card's issue date.
    const after = extra.needs ? dayOf(held.get(extra.needs)!.issue_date!) : firstDay;
    const since = isoOf(rng.int(after, issueDay));
    const codes = HEAVY.has(extra.code)
      ? [...visionCode, { code: "95", value: isoOf(rng.int(issueDay, issueDay + HEAVY_VALIDITY_YEARS * 365)) }]
      : visionCode;
    add(extra.code, since, codes);
  }
  return [...held.values()];
}

function minIso(a: string, b: string): string {
  return a < b ? a : b;
}

// ---- the database --------------------------------------------------------------------------------------

/**
 * A migration's DDL as separate statements, comment lines dropped (D1 prepares one statement at a time).
 * A statement ends at a semicolon that ends a line, so a trigger (whose body has its own semicolons) is
 * written on one line.
 */
function schemaStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

async function hasTable(db: D1Database, name: string): Promise<boolean> {
  return (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").bind(name).first()) !== null;
}

/**
 * Applies every migration whose table is missing (the same DDL as the migration files; IF NOT EXISTS, so
 * a later `wrangler d1 migrations apply` is harmless). For tests and for a local database the migration
 * runner has not seen; deployments use the migrations. `created`: the holders' table was created now.
 */
export async function ensureRegisterSchema(db: D1Database): Promise<{ created: boolean }> {
  let created = false;
  for (const migration of REGISTER_MIGRATIONS) {
    if (await hasTable(db, migration.table)) continue;
    await db.batch(schemaStatements(migration.sql).map((sql) => db.prepare(sql)));
    if (migration.table === REGISTER_TABLE) created = true;
  }
  return { created };
}

// ---- licence status --------------------------------------------------------------------------------------

/**
 * Demonstration holders whose licence is not valid, so refusals can be tried (`npm start`, the waiting
 * page's demo form): FR-009901 … FR-009905 suspended, FR-009906 … FR-009910 withdrawn. Everyone else is
 * valid. Far from the low numbers the tests seed (at most the first hundred), so no test meets one by
 * accident.
 */
export const DEMO_LICENCE_STATUSES: ReadonlyMap<number, Exclude<LicenceStatus, "valid">> = new Map([
  ...[9_901, 9_902, 9_903, 9_904, 9_905].map((n) => [n, "suspended"] as const),
  ...[9_906, 9_907, 9_908, 9_909, 9_910].map((n) => [n, "withdrawn"] as const),
]);

/** The seeded status of holder n. */
export function seededLicenceStatus(n: number): LicenceStatus {
  return DEMO_LICENCE_STATUSES.get(n) ?? "valid";
}

/** When the demonstration statuses were set: the population's as-of date (deterministic, like the rest). */
const DEMO_STATUS_CHANGED_AT = `${POPULATION_AS_OF}T00:00:00.000Z`;

/**
 * Sets a holder's licence status, as the register's own services would (the issuer never calls this in
 * a deployment: it only reads the register). The change log gets a row from the table's triggers, only
 * when the status actually changes. Development and tests: the dev route and the test helpers use it.
 * Returns false if the person holds no licence here.
 */
export async function setLicenceStatus(db: D1Database, personId: string, status: LicenceStatus, at: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO ${LICENCE_STATUS_TABLE} (person_id, status, changed_at)
       SELECT person_id, ?2, ?3 FROM ${REGISTER_TABLE} WHERE person_id = ?1
       ON CONFLICT (person_id) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at
       WHERE status <> excluded.status`,
    )
    .bind(personId, status, new Date(at).toISOString())
    .run();
  if (result.meta.changes > 0) return true;
  return (await db.prepare(`SELECT 1 AS one FROM ${REGISTER_TABLE} WHERE person_id = ?`).bind(personId).first()) !== null;
}

/** The demonstration statuses of holders 1..count, once (a status already set is left as it is). */
async function seedLicenceStatuses(db: D1Database, count: number): Promise<void> {
  const rows = [...DEMO_LICENCE_STATUSES].filter(([n]) => n <= count);
  if (rows.length === 0) return;
  await db.batch(
    rows.map(([n, status]) =>
      db
        .prepare(`INSERT INTO ${LICENCE_STATUS_TABLE} (person_id, status, changed_at) VALUES (?, ?, ?) ON CONFLICT (person_id) DO NOTHING`)
        .bind(personIdFor(n), status, DEMO_STATUS_CHANGED_AT),
    ),
  );
}

/** Rows per INSERT statement (one JSON parameter; about 170 KB, well under D1's 2 MB per value). */
const ROWS_PER_STATEMENT = 500;
/** Statements per db.batch call (each batch is one transaction of 2,000 rows, about 0.7 MB). */
const STATEMENTS_PER_BATCH = 4;

/**
 * One INSERT for ROWS_PER_STATEMENT holders: ?1 is a JSON array of rows (text columns, the portrait's
 * variant index, the privileges as JSON text); ?2… are the portrait variants as BLOBs, picked per row by
 * index. D1 allows at most 100 bound parameters per statement, which rules out one `VALUES (…)` tuple
 * per row; this way a 500-row statement binds 1 + (number of portraits) values. A person already present
 * is left alone (ON CONFLICT DO NOTHING); any other constraint failure is an error, not skipped.
 */
const INSERT_SQL = `INSERT INTO ${REGISTER_TABLE} (person_id, family_name, given_name, birth_date, issue_date, expiry_date,
  document_number, issuing_authority, issuing_country, un_distinguishing_sign, portrait, driving_privileges)
SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
  json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'),
  json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]'), json_extract(r.value, '$[8]'),
  json_extract(r.value, '$[9]'),
  CASE json_extract(r.value, '$[10]') ${PORTRAITS.map((_, i) => `WHEN ${i} THEN ?${i + 2}`).join(" ")} END,
  json_extract(r.value, '$[11]')
FROM json_each(?1) AS r WHERE true
ON CONFLICT (person_id) DO NOTHING`;

function rowOf(n: number, h: LicenceHolder): unknown[] {
  const variant = PORTRAITS.indexOf(h.portrait);
  if (variant < 0) throw new Error(`holder ${n}: portrait is not one of the embedded variants`);
  return [
    h.person_id,
    h.family_name,
    h.given_name,
    h.birth_date,
    h.issue_date,
    h.expiry_date,
    h.document_number,
    h.issuing_authority,
    h.issuing_country,
    h.un_distinguishing_sign,
    variant,
    JSON.stringify(h.driving_privileges),
  ];
}

/**
 * Fills the register with holders 1..count (default: all 10,000). Idempotent: if the table already has
 * at least `count` rows it does nothing (one COUNT query); otherwise it inserts whoever is missing, so a
 * seed interrupted half-way is completed by the next call, and two concurrent seeds insert each person
 * once. The demonstration statuses (DEMO_LICENCE_STATUSES) of holders up to `count` are set too. The
 * tables must exist (ensureRegisterSchema or the migrations). Returns how many holders it added,
 * and how many the register holds now (`total`; approximate only while another seed runs concurrently).
 */
export async function seedRegister(db: D1Database, count = REGISTER_POPULATION): Promise<{ inserted: number; total: number }> {
  if (!Number.isInteger(count) || count < 0 || count > REGISTER_POPULATION) {
    throw new RangeError(`count must be an integer in 0..${REGISTER_POPULATION}`);
  }
  const present = (await db.prepare(`SELECT count(*) AS n FROM ${REGISTER_TABLE}`).first<number>("n")) ?? 0;
  if (present >= count) {
    // A register seeded before the status migration gets its demonstration statuses now.
    await seedLicenceStatuses(db, count);
    return { inserted: 0, total: present };
  }

  const statements: D1PreparedStatement[] = [];
  for (let start = 1; start <= count; start += ROWS_PER_STATEMENT) {
    const rows: unknown[] = [];
    for (let n = start; n < Math.min(start + ROWS_PER_STATEMENT, count + 1); n++) rows.push(rowOf(n, syntheticHolder(n)));
    statements.push(db.prepare(INSERT_SQL).bind(JSON.stringify(rows), ...PORTRAITS));
  }
  let inserted = 0;
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH) {
    const results = await db.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
    for (const r of results) inserted += r.meta.changes;
  }
  await seedLicenceStatuses(db, count);
  return { inserted, total: present + inserted };
}
