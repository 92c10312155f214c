// The operators' credential controls (src/lifecycle/, /v1/admin/credentials/…, /v1/admin/audit) and the
// automatic application of the register's change log, against the real IssuanceLedger and LifecycleLog
// objects and the Worker's own routes. Credentials are put in the ledger the way issuance records them
// (recordIssued under the person's ledger pseudonym), in both formats.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64url, decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import worker from "../../src/dev/index";
import { withDevSecrets } from "../../src/dev/secrets";
import { lifecycleLog } from "../../src/edge/objects";
import { syncRegisterChanges } from "../../src/lifecycle/register-sync";
import { ensureRegisterSchema, personIdFor, seedRegister, setLicenceStatus } from "../../src/register/seed";
import { credentialsOfPerson, ledgerPseudonym, readListBits, recordIssued, type StatusReference } from "../../src/status/ledger";
import { statusAt } from "../../src/status/status-bits";
import { ADMIN_TOKEN, ORIGIN, call, checkAnswersAgainstOpenApiInThisFile, expectProblem, testClock } from "../helpers/api";

const testEnv = withDevSecrets(env as unknown as Env);
const SEEDED = 80;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
});
checkAnswersAgainstOpenApiInThisFile();

let nextPerson = 1;
/** A register holder no other test of this file uses. */
const freshPerson = () => personIdFor(nextPerson++);

/** What issuance records for one person: an mdoc and two SD-JWT VCs (a batch), as two requests. */
async function issueBoth(personId: string): Promise<StatusReference[]> {
  const person = await ledgerPseudonym(testEnv, personId);
  const batch = { person, sessionId: "permis/0.1", issuedAt: testClock.now() };
  const mdoc = await recordIssued(testEnv, ORIGIN, {
    ...batch,
    format: "mso_mdoc",
    configuration: "fr.antichambre.mdl.mso_mdoc",
    count: 1,
  });
  const sdJwt = await recordIssued(testEnv, ORIGIN, {
    ...batch,
    format: "dc+sd-jwt",
    configuration: "fr.antichambre.mdl.dc_sd_jwt",
    count: 2,
  });
  return [...mdoc, ...sdJwt];
}

/** Each credential's status as its Status List says (the bits a verifier's token carries). */
async function listed(refs: readonly StatusReference[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of refs) out.push(statusAt((await readListBits(testEnv, r.list))!, r.idx));
  return out;
}

function post(path: string, body: unknown, headers: Record<string, string> = admin) {
  return call(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
const byPerson = (action: string, body: unknown, headers?: Record<string, string>) =>
  post(`/v1/admin/credentials/by-person/${action}`, body, headers);
const byIndex = (action: string, body: unknown, headers?: Record<string, string>) =>
  post(`/v1/admin/credentials/by-index/${action}`, body, headers);

async function audit(query = ""): Promise<{ entries: Record<string, any>[]; next: string | null }> {
  const res = await call(`/v1/admin/audit${query}`, { headers: admin });
  expect(res.status).toBe(200);
  return res.json();
}
async function newestAudit(): Promise<Record<string, any>> {
  return (await audit("?limit=1")).entries[0]!;
}

describe("every credential of a person", () => {
  it("suspend → 2 in the lists for every credential in both formats; reinstate → 0; each change audited without the person id", async () => {
    const personId = freshPerson();
    const other = freshPerson();
    const refs = await issueBoth(personId);
    const bystander = await issueBoth(other);
    expect(new Set(refs.map((r) => r.list)).size).toBeGreaterThanOrEqual(1);

    const suspended = await byPerson("suspend", { person_id: personId, reason: "court order 2026-118" });
    expect(suspended.status).toBe(200);
    const body = (await suspended.json()) as Record<string, any>;
    expect(body).toMatchObject({ action: "suspend", status: 2, changed: 3, unchanged: 0, revoked_kept: 0 });
    expect(JSON.stringify(body)).not.toContain(personId);
    expect(body.target.pseudonym).toBe(await ledgerPseudonym(testEnv, personId));
    expect(await listed(refs)).toEqual([2, 2, 2]);
    expect(await listed(bystander)).toEqual([0, 0, 0]); // nobody else touched
    const formats = (await credentialsOfPerson(testEnv, body.target.pseudonym)).map((e) => [e.format, e.status]);
    expect(formats).toEqual([
      ["mso_mdoc", 2],
      ["dc+sd-jwt", 2],
      ["dc+sd-jwt", 2],
    ]);

    const entry = await newestAudit();
    expect(entry).toMatchObject({
      action: "suspend",
      target: { kind: "person", pseudonym: body.target.pseudonym },
      count: 3,
      reason: "court order 2026-118",
    });
    expect(entry.actor).toMatch(/^token:[0-9a-f]{12}$/);
    expect(entry.actor).not.toContain(ADMIN_TOKEN);
    expect(Date.parse(entry.at)).toBe(testClock.now());
    expect(JSON.stringify(entry)).not.toContain(personId);

    // Suspending again changes nothing (and says so); reinstating brings every one back to 0.
    expect(await (await byPerson("suspend", { person_id: personId })).json()).toMatchObject({ changed: 0, unchanged: 3 });
    const reinstated = await byPerson("reinstate", { person_id: personId });
    expect(await reinstated.json()).toMatchObject({ action: "reinstate", status: 0, changed: 3 });
    expect(await listed(refs)).toEqual([0, 0, 0]);
    expect(await newestAudit()).toMatchObject({ action: "reinstate", count: 3, reason: null });
  });

  it("revoke → 1 for all, and a later reinstatement (or suspension) is refused: revoked is final", async () => {
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    await byPerson("suspend", { person_id: personId });
    const revoked = await byPerson("revoke", { person_id: personId, reason: "licence cancelled" });
    expect(await revoked.json()).toMatchObject({ action: "revoke", status: 1, changed: 3 });
    expect(await listed(refs)).toEqual([1, 1, 1]);
    expect(await newestAudit()).toMatchObject({ action: "revoke", count: 3, reason: "licence cancelled" });

    const again = await expectProblem(await byPerson("reinstate", { person_id: personId }), 409, "conflict");
    expect(again.reason).toBe("revoked_is_final");
    await expectProblem(await byPerson("suspend", { person_id: personId }), 409, "conflict");
    expect(await listed(refs)).toEqual([1, 1, 1]);
    // Refused attempts are recorded too, with count 0: what an operator tried is part of the record.
    expect(await newestAudit()).toMatchObject({ action: "suspend", count: 0 });
  });

  it("an unknown person is a 404 problem, and nothing is recorded", async () => {
    const before = await newestAudit().catch(() => null);
    for (const person_id of [personIdFor(SEEDED + 1), "FR-010500", "someone-else"]) {
      await expectProblem(await byPerson("suspend", { person_id }), 404, "not-found");
    }
    expect(await newestAudit().catch(() => null)).toEqual(before);
  });
});

describe("one credential by list and index", () => {
  it("suspend, reinstate, revoke one entry; its siblings keep their status; revoked stays revoked", async () => {
    const refs = await issueBoth(freshPerson());
    const [first, second] = refs;
    const target = { list: first!.list, idx: first!.idx };
    expect(await (await byIndex("suspend", { ...target, reason: "lost phone" })).json()).toMatchObject({
      status: 2,
      changed: 1,
      target: { kind: "credential", ...target },
    });
    expect(await listed(refs)).toEqual([2, 0, 0]);
    expect(await newestAudit()).toMatchObject({
      action: "suspend",
      target: { kind: "credential", ...target },
      count: 1,
      reason: "lost phone",
    });
    await byIndex("reinstate", target);
    expect(await listed(refs)).toEqual([0, 0, 0]);
    await byIndex("revoke", { list: second!.list, idx: second!.idx });
    expect(await listed(refs)).toEqual([0, 1, 0]);
    const refused = await expectProblem(await byIndex("reinstate", { list: second!.list, idx: second!.idx }), 409, "conflict");
    expect(refused.reason).toBe("revoked_is_final");
    expect(await listed(refs)).toEqual([0, 1, 0]);
    expect(await newestAudit()).toMatchObject({ action: "reinstate", target: { kind: "credential", idx: second!.idx }, count: 0 });
  });

  it("an entry never issued, or a list this issuer never made, is a 404", async () => {
    const [ref] = await issueBoth(freshPerson());
    const unused = (ref!.idx + 1) % 2 ** 20;
    const known = new Set(
      (await credentialsOfPerson(testEnv, await ledgerPseudonym(testEnv, personIdFor(nextPerson - 1)))).map((e) => e.idx),
    );
    if (!known.has(unused)) await expectProblem(await byIndex("revoke", { list: ref!.list, idx: unused }), 404, "not-found");
    await expectProblem(await byIndex("revoke", { list: "99-0", idx: 1 }), 404, "not-found");
    await expectProblem(await byIndex("revoke", { list: "not-a-list", idx: 1 }), 404, "not-found");
    expect(await listed([ref!])).toEqual([0]);
  });
});

describe("bad input changes nothing", () => {
  it("malformed bodies, unknown actions and bad queries are problem+json; no status changes, no audit row", async () => {
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    const before = await newestAudit();
    const bad: [Promise<Response>, number][] = [
      [byPerson("suspend", {}), 422],
      [byPerson("suspend", { person_id: personId, extra: 1 }), 422],
      [byPerson("suspend", { person_id: 42 }), 422],
      [byPerson("suspend", { person_id: "x".repeat(65) }), 422],
      [byPerson("suspend", { person_id: personId, reason: "" }), 422],
      [byPerson("suspend", { person_id: personId, reason: "x".repeat(201) }), 422],
      [byPerson("suspend", { person_id: personId, reason: "two\nlines" }), 422],
      [byPerson("delete", { person_id: personId }), 404],
      [byPerson("Suspend", { person_id: personId }), 404],
      [byIndex("revoke", { list: refs[0]!.list }), 422],
      [byIndex("revoke", { list: refs[0]!.list, idx: -1 }), 422],
      [byIndex("revoke", { list: refs[0]!.list, idx: 1.5 }), 422],
      [byIndex("revoke", { list: refs[0]!.list, idx: "1" }), 422],
      [
        call("/v1/admin/credentials/by-person/revoke", { method: "POST", headers: { ...admin, "content-type": "text/plain" }, body: "x" }),
        415,
      ],
      [
        call("/v1/admin/credentials/by-person/revoke", {
          method: "POST",
          headers: { ...admin, "content-type": "application/json" },
          body: "{",
        }),
        400,
      ],
      [call("/v1/admin/audit?limit=0", { headers: admin }), 422],
      [call("/v1/admin/audit?limit=1000", { headers: admin }), 422],
      [call("/v1/admin/audit?before=abc", { headers: admin }), 422],
      [call("/v1/admin/audit?offset=3", { headers: admin }), 422],
    ];
    for (const [res, status] of bad) {
      const r = await res;
      expect(r.status, `${r.url}`).toBe(status);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(await listed(refs)).toEqual([0, 0, 0]);
    expect(await newestAudit()).toEqual(before);
  });
});

describe("admin authentication", () => {
  const routes: [string, string][] = [
    ["POST", "/v1/admin/credentials/by-person/suspend"],
    ["POST", "/v1/admin/credentials/by-person/revoke"],
    ["POST", "/v1/admin/credentials/by-index/reinstate"],
    ["GET", "/v1/admin/audit"],
  ];

  it("every route refuses a missing or wrong token (401) and a dashboard session without the CSRF header (403)", async () => {
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    const before = await newestAudit();
    const body = (path: string) =>
      path.includes("by-index") ? JSON.stringify({ list: refs[0]!.list, idx: refs[0]!.idx }) : JSON.stringify({ person_id: personId });
    for (const [method, path] of routes) {
      const init = (headers: Record<string, string>) => ({
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(method === "POST" ? { body: body(path) } : {}),
      });
      await expectProblem(await call(path, init({})), 401, "unauthorized");
      await expectProblem(await call(path, init({ authorization: "Bearer not-the-admin-token" })), 401, "unauthorized");
      await expectProblem(await call(path, init({ authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` })), 401, "unauthorized");
    }
    // A dashboard session may read the audit log, but a change needs the custom header from the same origin.
    const login = await call("/admin/login", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/^antichambre_admin=/);
    expect((await call("/v1/admin/audit", { headers: { cookie } })).status).toBe(200);
    for (const [method, path] of routes.filter(([m]) => m === "POST")) {
      const res = await call(path, { method, headers: { "content-type": "application/json", cookie }, body: body(path) });
      await expectProblem(res, 403, "forbidden");
    }
    expect(await listed(refs)).toEqual([0, 0, 0]);
    expect(await newestAudit()).toEqual(before);

    // With the header, from the same origin: accepted, and the audit names the dashboard login, not a token.
    const ok = await call("/v1/admin/credentials/by-person/suspend", {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "x-antichambre-admin": "1", origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: body("by-person"),
    });
    expect(ok.status).toBe(200);
    expect((await newestAudit()).actor).toMatch(/^session:\d{4}-\d{2}-\d{2}T/);
  });
});

describe("the audit log", () => {
  it("pages newest first with a cursor that reaches every entry once", async () => {
    const personId = freshPerson();
    await issueBoth(personId);
    for (let i = 0; i < 5; i++) await byPerson(i % 2 === 0 ? "suspend" : "reinstate", { person_id: personId, reason: `step ${i}` });
    const seen: number[] = [];
    let query = "?limit=2";
    for (;;) {
      const page = await audit(query);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.seq as number));
      if (!page.next) break;
      query = `?limit=2&before=${page.next}`;
    }
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(1);
    const newest = (await audit("?limit=5")).entries.map((e) => e.reason);
    expect(newest).toEqual(["step 4", "step 3", "step 2", "step 1", "step 0"]);
  });
});

describe("the register's changes, applied automatically", () => {
  it("the scheduled handler applies suspended → 2, valid → 0, withdrawn → 1 to the person's credentials, once, audited as the register", async () => {
    // Earlier changes in this file's register (the seed's, other tests') are applied first: start clean.
    await syncRegisterChanges(testEnv, testClock.now());
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    const pseudonym = await ledgerPseudonym(testEnv, personId);

    const scheduled = async () => {
      const ctx = createExecutionContext();
      await worker.scheduled!(createScheduledController({ scheduledTime: testClock.now(), cron: "* * * * *" }), env as unknown as Env, ctx);
      await waitOnExecutionContext(ctx);
    };

    await setLicenceStatus(env.REGISTER, personId, "suspended", testClock.now());
    await scheduled();
    expect(await listed(refs)).toEqual([2, 2, 2]);
    expect(await newestAudit()).toMatchObject({ actor: "register", action: "suspend", target: { kind: "person", pseudonym }, count: 3 });

    // Nothing new in the register: the next run changes nothing and records nothing.
    const seq = (await newestAudit()).seq;
    await scheduled();
    expect((await newestAudit()).seq).toBe(seq);

    await setLicenceStatus(env.REGISTER, personId, "valid", testClock.now());
    await scheduled();
    expect(await listed(refs)).toEqual([0, 0, 0]);
    expect(await newestAudit()).toMatchObject({ actor: "register", action: "reinstate", count: 3 });

    // Suspended then withdrawn between two runs: applied in order, ending revoked; and valid again later
    // cannot bring a revoked credential back.
    await setLicenceStatus(env.REGISTER, personId, "suspended", testClock.now());
    await setLicenceStatus(env.REGISTER, personId, "withdrawn", testClock.now());
    await scheduled();
    expect(await listed(refs)).toEqual([1, 1, 1]);
    await setLicenceStatus(env.REGISTER, personId, "valid", testClock.now());
    await scheduled();
    expect(await listed(refs)).toEqual([1, 1, 1]);
  });

  it("a run while another holds the lease does nothing; a person with no credential is passed over", async () => {
    await syncRegisterChanges(testEnv, testClock.now());
    const log = lifecycleLog(testEnv);
    const lease = await log.beginSync("someone-else", testClock.now(), 60_000);
    expect(lease).not.toBeNull();
    const nobody = freshPerson(); // a holder with nothing issued
    await setLicenceStatus(env.REGISTER, nobody, "suspended", testClock.now());
    expect(await syncRegisterChanges(testEnv, testClock.now())).toMatchObject({ ran: false, applied: 0 });
    expect(await log.endSync("someone-else", lease!)).toBe(true);
    const run = await syncRegisterChanges(testEnv, testClock.now());
    expect(run).toMatchObject({ ran: true, applied: 1, credentials: 0 });
    expect(await syncRegisterChanges(testEnv, testClock.now())).toMatchObject({ ran: true, applied: 0 });
  });
});

describe("the dashboard", () => {
  it("carries the credential controls and the audit log, with no inline script", async () => {
    const login = await call("/admin/login", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const res = await call("/admin?room=permis", { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const id of [
      "person-form",
      "person_id",
      "person_action",
      "person_confirm",
      "index-form",
      "status_list",
      "status_idx",
      "audit-rows",
    ])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('<option value="revoke">revoke (final)</option>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});

describe("development helpers", () => {
  it("POST /v1/dev/register/licence-status changes the register, /v1/dev/register/sync applies it at once", async () => {
    await syncRegisterChanges(testEnv, testClock.now());
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    const set = (body: unknown) => post("/v1/dev/register/licence-status", body, {});
    expect((await set({ person_id: personId, status: "suspended" })).status).toBe(200);
    await expectProblem(await set({ person_id: "FR-010500", status: "suspended" }), 404, "not-found");
    await expectProblem(await set({ person_id: personId, status: "revoked" }), 422, "validation-failed");
    expect(await listed(refs)).toEqual([0, 0, 0]); // not before the sync
    const sync = await post("/v1/dev/register/sync", {}, {});
    expect(await sync.json()).toMatchObject({ ran: true, applied: 1, credentials: 3 });
    expect(await listed(refs)).toEqual([2, 2, 2]);
  });
});

describe("concurrent changes", () => {
  it("a revocation racing reinstatements and suspensions ends revoked, whatever the order", async () => {
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    const calls = [
      ...Array.from({ length: 4 }, () => byPerson("reinstate", { person_id: personId })),
      byPerson("revoke", { person_id: personId }),
      ...Array.from({ length: 4 }, () => byPerson("suspend", { person_id: personId })),
    ];
    const answers = await Promise.all(calls);
    for (const a of answers) expect([200, 409]).toContain(a.status);
    expect(await listed(refs)).toEqual([1, 1, 1]);
  });

  it("two sync runs at once: one applies the change, the other stands aside; the change is audited once", async () => {
    await syncRegisterChanges(testEnv, testClock.now());
    const personId = freshPerson();
    const refs = await issueBoth(personId);
    await setLicenceStatus(env.REGISTER, personId, "suspended", testClock.now());
    const runs = await Promise.all([syncRegisterChanges(testEnv, testClock.now()), syncRegisterChanges(testEnv, testClock.now())]);
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    expect(runs.find((r) => r.ran)).toMatchObject({ applied: 1, credentials: 3 });
    expect(await listed(refs)).toEqual([2, 2, 2]);
    const pseudonym = await ledgerPseudonym(testEnv, personId);
    const mine = (await audit("?limit=20")).entries.filter((e) => e.target.pseudonym === pseudonym);
    expect(mine).toHaveLength(1);
  });
});

describe("a change is visible over HTTP at once in this location", () => {
  it("the Status List Token served at the uri says 2, then 0, then 1, though it was cached before each change", async () => {
    const [ref] = await issueBoth(freshPerson());
    const path = new URL(ref!.uri).pathname;
    /** The entry's value in the served JWT (zlib-compressed, 2 bits per entry, least significant first). */
    const served = async () => {
      const res = await call(path, { headers: { accept: "application/statuslist+jwt" } });
      expect(res.status).toBe(200);
      const { status_list } = decodeJwt(await res.text()) as { status_list: { bits: number; lst: string } };
      const stream = new Blob([base64url.decode(status_list.lst)]).stream().pipeThrough(new DecompressionStream("deflate"));
      const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
      return (bytes[ref!.idx >> 2]! >> ((ref!.idx & 3) * 2)) & 3;
    };
    expect(await served()).toBe(0);
    expect(await served()).toBe(0); // now cached (memory and edge)
    await byIndex("suspend", { list: ref!.list, idx: ref!.idx });
    expect(await served()).toBe(2);
    await byIndex("reinstate", { list: ref!.list, idx: ref!.idx });
    expect(await served()).toBe(0);
    await byIndex("revoke", { list: ref!.list, idx: ref!.idx });
    expect(await served()).toBe(1);
  });
});
