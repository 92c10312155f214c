// The register's licence status (valid, suspended, withdrawn) and its change log, and what issuance does
// with it: a suspended or withdrawn licence is refused with `credential_request_denied` and a reason, in
// the wallet's language; the SDK and the waiting page's strings say the same words.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CredentialDeniedError } from "../../client/index";
import { denialOf } from "../../src/issuance/credential";
import type { Env } from "../../src/config/env";
import { withDevSecrets } from "../../src/dev/secrets";
import { syncRegisterChanges } from "../../src/lifecycle/register-sync";
import { credentialsOfPerson, ledgerPseudonym, readListBits } from "../../src/status/ledger";
import { statusAt } from "../../src/status/status-bits";
import { decodeJwt } from "jose";
import { STRINGS } from "../../src/pages/i18n";
import { readLicenceChanges } from "../../src/register/changes";
import { LicenceRegister } from "../../src/register/register";
import {
  DEMO_LICENCE_STATUSES,
  ensureRegisterSchema,
  personIdFor,
  seedRegister,
  seededLicenceStatus,
  setLicenceStatus,
  syntheticHolder,
} from "../../src/register/seed";
import { checkAnswersAgainstOpenApiInThisFile, createRoom, join, testClock, tick } from "../helpers/api";
import { SD_JWT, MDOC, admittedOffer, credential, token, walletKeys, withAccess, nonce, keyProof } from "../helpers/wallet";

const db = env.REGISTER;

checkAnswersAgainstOpenApiInThisFile();

beforeAll(async () => {
  await ensureRegisterSchema(db);
  // Every holder: the demonstration statuses are far up the register (FR-009901 …).
  await seedRegister(db);
});

/** Holders 1..200 whose licence is valid by date on the test clock. */
function validByDate(): string[] {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids: string[] = [];
  for (let n = 1; n <= 200; n++) if (syntheticHolder(n).expiry_date > today) ids.push(personIdFor(n));
  return ids;
}
let nextHolder = 0;
const freshHolder = () => validByDate()[nextHolder++]!;

async function changesAfter(cursor: number) {
  return readLicenceChanges(db, cursor, 1_000);
}
async function lastSeq(): Promise<number> {
  return ((await db.prepare("SELECT max(seq) AS s FROM licence_status_changes").first<number>("s")) ?? 0) as number;
}

describe("register: licence status", () => {
  it("seeds the documented demonstration statuses and leaves everyone else valid", async () => {
    const register = new LicenceRegister(env, { latencyMs: 0 });
    expect([...DEMO_LICENCE_STATUSES.values()].filter((s) => s === "suspended")).toHaveLength(5);
    expect([...DEMO_LICENCE_STATUSES.values()].filter((s) => s === "withdrawn")).toHaveLength(5);
    for (const [n, status] of DEMO_LICENCE_STATUSES) expect((await register.findLicence(personIdFor(n)))?.status).toBe(status);
    expect((await register.findLicence("FR-009901"))?.status).toBe("suspended");
    expect((await register.findLicence("FR-009910"))?.status).toBe("withdrawn");
    for (const n of [1, 42, 9_900, 9_911, 10_000]) {
      expect(seededLicenceStatus(n)).toBe("valid");
      const licence = await register.findLicence(personIdFor(n));
      expect(licence?.status).toBe("valid");
      expect(licence?.holder).toEqual(syntheticHolder(n));
    }
    expect(await register.findLicence("FR-010001")).toBeNull();
    // Seeding again changes nothing: no second change-log row for the same status.
    const before = await lastSeq();
    await seedRegister(db);
    expect(await lastSeq()).toBe(before);
  });

  it("every status change, and only a change, appends to the change log in order", async () => {
    const person = freshHolder();
    const from = await lastSeq();
    expect(await setLicenceStatus(db, person, "suspended", testClock.now())).toBe(true);
    expect(await setLicenceStatus(db, person, "suspended", testClock.now())).toBe(true); // the same: no row
    expect(await setLicenceStatus(db, person, "valid", testClock.now())).toBe(true);
    expect(await setLicenceStatus(db, person, "withdrawn", testClock.now())).toBe(true);
    const changes = await changesAfter(from);
    expect(changes.map((c) => [c.personId, c.status])).toEqual([
      [person, "suspended"],
      [person, "valid"],
      [person, "withdrawn"],
    ]);
    expect(changes.map((c) => c.seq)).toEqual([...changes.map((c) => c.seq)].sort((a, b) => a - b));
    expect(await readLicenceChanges(db, changes[0]!.seq, 1)).toEqual([changes[1]]);
    // Nobody without a licence gets a status, and the log does not move.
    expect(await setLicenceStatus(db, "FR-010001", "suspended", testClock.now())).toBe(false);
    expect(await lastSeq()).toBe(changes.at(-1)!.seq);
  });

  it("the database refuses a status outside valid | suspended | withdrawn", async () => {
    const person = freshHolder();
    await expect(
      db.prepare("INSERT INTO licence_status (person_id, status, changed_at) VALUES (?, 'revoked', 'x')").bind(person).run(),
    ).rejects.toThrow();
    expect((await new LicenceRegister(env, { latencyMs: 0 }).findLicence(person))?.status).toBe("valid");
  });
});

/** Join, admit, redeem: the phone and its access token. */
async function issuanceSession(room: string, personId: string) {
  const joined = await join(room, { personId });
  await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const at = (await token(joined.device, code)).body.access_token as string;
  expect(typeof at).toBe("string");
  return { device: joined.device, at };
}

describe("issuance refuses a licence that is not valid", () => {
  it("suspended: credential_request_denied with reason licence_suspended, in English by default and French when asked", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const person = freshHolder();
    await setLicenceStatus(db, person, "suspended", testClock.now());
    const s = await issuanceSession(room, person);
    const denied = await credential(s.device, s.at, SD_JWT, await walletKeys(1));
    expect(denied.status).toBe(400);
    expect(denied.body).toMatchObject({ error: "credential_request_denied", reason: "licence_suspended" });
    expect(denied.body.error_description).toBe(STRINGS.en.denied("licence_suspended"));

    // The same refusal for a wallet that prefers French (Accept-Language), and for the other format.
    const n = await nonce();
    const proof = await keyProof((await walletKeys(1))[0]!, n);
    const french = await withAccess(
      "/credential",
      s.device,
      s.at,
      { credential_configuration_id: MDOC, proofs: { jwt: [proof] } },
      { headers: { "accept-language": "fr-FR,fr;q=0.9,en;q=0.5" } },
    );
    expect(french.body).toMatchObject({ error: "credential_request_denied", reason: "licence_suspended" });
    expect(french.body.error_description).toBe(STRINGS.fr.denied("licence_suspended"));
    expect(french.body.error_description).toContain("suspendu");
  });

  it("withdrawn: reason licence_withdrawn; valid again: issued", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const withdrawn = freshHolder();
    await setLicenceStatus(db, withdrawn, "withdrawn", testClock.now());
    const w = await issuanceSession(room, withdrawn);
    expect((await credential(w.device, w.at, MDOC, await walletKeys(1))).body).toMatchObject({
      error: "credential_request_denied",
      reason: "licence_withdrawn",
    });

    // A suspension lifted in the register: the next admission is issued.
    const lifted = freshHolder();
    await setLicenceStatus(db, lifted, "suspended", testClock.now());
    await setLicenceStatus(db, lifted, "valid", testClock.now());
    const l = await issuanceSession(room, lifted);
    const issued = await credential(l.device, l.at, SD_JWT, await walletKeys(1));
    expect(issued.status).toBe(200);
    expect(issued.body.credentials).toHaveLength(1);
  });

  it("a demonstration holder (FR-009906, withdrawn) and a person with no licence each get their own reason", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const demo = await issuanceSession(room, "FR-009906");
    expect((await credential(demo.device, demo.at, SD_JWT, await walletKeys(1))).body.reason).toBe("licence_withdrawn");
    const nobody = await issuanceSession(room, "FR-010500");
    expect((await credential(nobody.device, nobody.at, SD_JWT, await walletKeys(1))).body.reason).toBe("no_licence");
  });
});

describe("the SDK and the page say why, in French and English", () => {
  it("CredentialDeniedError names the licence reason and describes it; other denials keep the server's detail", () => {
    const problem = { error: "credential_request_denied", reason: "licence_suspended", detail: "d" };
    const e = new CredentialDeniedError("credential: 400", { status: 400, problem });
    expect(e.licenceReason).toBe("licence_suspended");
    expect(e.describe("fr")).toBe(STRINGS.fr.denied("licence_suspended"));
    expect(e.describe("en")).toBe(STRINGS.en.denied("licence_suspended"));
    expect(e.describe("fr")).not.toBe(e.describe("en"));
    const quota = new CredentialDeniedError("credential: 400", {
      status: 400,
      problem: { error: "credential_request_denied", reason: "credential_quota_exhausted", detail: "spent" },
    });
    expect(quota.licenceReason).toBeNull();
    expect(quota.describe("fr")).toBe("spent");
    for (const reason of ["no_licence", "licence_expired", "licence_suspended", "licence_withdrawn"] as const) {
      expect(STRINGS.fr.denied(reason).length).toBeGreaterThan(10);
      expect(STRINGS.en.denied(reason)).not.toBe(STRINGS.fr.denied(reason));
    }
  });
});

describe("which reason wins", () => {
  it("the register's decision before the date: withdrawn or suspended is said even when the licence has also expired", () => {
    const now = testClock.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const expiredN = Array.from({ length: 200 }, (_, i) => i + 1).find((n) => syntheticHolder(n).expiry_date < today)!;
    const validN = Array.from({ length: 200 }, (_, i) => i + 1).find((n) => syntheticHolder(n).expiry_date > today)!;
    const expired = syntheticHolder(expiredN);
    const valid = syntheticHolder(validN);
    expect(denialOf(null, now)).toBe("no_licence");
    expect(denialOf({ holder: expired, status: "withdrawn" }, now)).toBe("licence_withdrawn");
    expect(denialOf({ holder: expired, status: "suspended" }, now)).toBe("licence_suspended");
    expect(denialOf({ holder: expired, status: "valid" }, now)).toBe("licence_expired");
    expect(denialOf({ holder: valid, status: "valid" }, now)).toBeNull();
    // The last day of validity still issues; the day after does not.
    const lastDay = Date.parse(`${valid.expiry_date}T12:00:00Z`);
    expect(denialOf({ holder: valid, status: "valid" }, lastDay)).toBeNull();
    expect(denialOf({ holder: valid, status: "valid" }, lastDay + 86_400_000)).toBe("licence_expired");
  });
});

describe("credentials issued over HTTP follow the person's status", () => {
  it("both formats issued, then the register suspends the licence: every credential reads 2 in its list, the SD-JWT's own entry included", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const person = freshHolder();
    const s = await issuanceSession(room, person);
    const sdJwt = await credential(s.device, s.at, SD_JWT, await walletKeys(2));
    const mdoc = await credential(s.device, s.at, MDOC, await walletKeys(1));
    expect([sdJwt.status, mdoc.status]).toEqual([200, 200]);
    const entry = (
      decodeJwt(String(sdJwt.body.credentials[0].credential).split("~")[0]!) as { status: { status_list: { idx: number; uri: string } } }
    ).status.status_list;

    const testEnv = withDevSecrets(env as unknown as Env);
    const ledger = await credentialsOfPerson(testEnv, await ledgerPseudonym(testEnv, person));
    expect(ledger.map((e) => e.format).sort()).toEqual(["dc+sd-jwt", "dc+sd-jwt", "mso_mdoc"]);
    expect(ledger.some((e) => e.idx === entry.idx && entry.uri.endsWith(`/status-lists/${e.list}`))).toBe(true);

    await setLicenceStatus(db, person, "suspended", testClock.now());
    await syncRegisterChanges(testEnv, testClock.now());
    for (const e of ledger) expect(statusAt((await readListBits(testEnv, e.list))!, e.idx)).toBe(2);
  });
});
