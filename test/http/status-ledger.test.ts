import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { withDevSecrets } from "../../src/dev/secrets";
import { credentialsOfPerson, ledgerPseudonym, readListBits, recordIssued, setListStatus, setPersonStatus } from "../../src/status/ledger";
import { LIST_SIZE } from "../../src/status/index-permutation";
import { statusAt } from "../../src/status/status-bits";
import { STATUS } from "../../src/status/status-values";

/**
 * The status and ledger store (src/status/ledger.ts) against the real IssuanceLedger objects: what
 * issuance records, what the lifecycle operations change, and what the status list reads.
 */
const testEnv = withDevSecrets(env as unknown as Env);
const ISSUER = "http://antichambre.test";
let people = 0;
const newPerson = () => ledgerPseudonym(testEnv, `ledger-person-${Date.now()}-${people++}`);

async function issue(person: string, count: number, format: "mso_mdoc" | "dc+sd-jwt" = "dc+sd-jwt") {
  return recordIssued(testEnv, ISSUER, {
    person,
    sessionId: "permis/t-1",
    format,
    configuration: format === "mso_mdoc" ? "fr.antichambre.mdl.mso_mdoc" : "fr.antichambre.mdl.dc_sd_jwt",
    issuedAt: 1_000,
    count,
  });
}

describe("the issuance ledger and status lists", () => {
  it("gives every credential of a batch its own entry, in one list of the person's object, named by its uri", async () => {
    const person = await newPerson();
    const refs = await issue(person, 4);
    expect(refs).toHaveLength(4);
    expect(new Set(refs.map((r) => `${r.list}/${r.idx}`)).size).toBe(4);
    for (const r of refs) {
      expect(r.uri).toBe(`${ISSUER}/status-lists/${r.list}`);
      expect(r.idx >= 0 && r.idx < LIST_SIZE).toBe(true);
    }
    expect(new Set(refs.map((r) => r.list)).size).toBe(1);
    const ledger = await credentialsOfPerson(testEnv, person);
    expect(ledger.map((e) => [e.list, e.idx, e.format, e.status])).toEqual(refs.map((r) => [r.list, r.idx, "dc+sd-jwt", STATUS.valid]));
    expect(ledger[0]).toMatchObject({ sessionId: "permis/t-1", issuedAt: 1_000, statusChangedAt: null });
  });

  it("keeps the ledger of one person apart from another's", async () => {
    const [a, b] = [await newPerson(), await newPerson()];
    await issue(a, 2);
    await issue(b, 1, "mso_mdoc");
    expect(await credentialsOfPerson(testEnv, a)).toHaveLength(2);
    expect((await credentialsOfPerson(testEnv, b)).map((e) => e.format)).toEqual(["mso_mdoc"]);
    expect(await credentialsOfPerson(testEnv, await newPerson())).toEqual([]);
  });

  it("suspends, reinstates and revokes entries, shows them in the list's bits, and never un-revokes", async () => {
    const person = await newPerson();
    const [one, two, three] = await issue(person, 3);
    const suspended = await setListStatus(testEnv, [one!, two!], STATUS.suspended, 2_000);
    expect(suspended.changed).toEqual([one, two].map((r) => ({ list: r!.list, idx: r!.idx })));
    let bits = (await readListBits(testEnv, one!.list))!;
    expect([statusAt(bits, one!.idx), statusAt(bits, two!.idx), statusAt(bits, three!.idx)]).toEqual([2, 2, 0]);

    await setListStatus(testEnv, [two!], STATUS.valid, 3_000);
    await setListStatus(testEnv, [three!], STATUS.invalid, 3_000);
    bits = (await readListBits(testEnv, one!.list))!;
    expect([statusAt(bits, one!.idx), statusAt(bits, two!.idx), statusAt(bits, three!.idx)]).toEqual([2, 0, 1]);

    // Revoked is final: neither reinstated nor suspended, by entry or by person.
    const again = await setListStatus(testEnv, [three!], STATUS.valid, 4_000);
    expect(again).toMatchObject({ changed: [], revoked: [{ list: three!.list, idx: three!.idx }] });
    const all = await setPersonStatus(testEnv, person, STATUS.valid, 4_000);
    expect(all.changed).toEqual([{ list: one!.list, idx: one!.idx }]);
    expect(all.unchanged).toEqual([{ list: two!.list, idx: two!.idx }]);
    expect(all.revoked).toEqual([{ list: three!.list, idx: three!.idx }]);
    const ledger = await credentialsOfPerson(testEnv, person);
    expect(ledger.map((e) => e.status)).toEqual([0, 0, 1]);
    expect(ledger[0]!.statusChangedAt).toBe(4_000);
  });

  it("revokes every credential of a person at once", async () => {
    const person = await newPerson();
    const refs = [...(await issue(person, 2)), ...(await issue(person, 2, "mso_mdoc"))];
    const change = await setPersonStatus(testEnv, person, STATUS.invalid, 5_000);
    expect(change.changed).toHaveLength(4);
    const bits = (await readListBits(testEnv, refs[0]!.list))!;
    expect(refs.map((r) => statusAt(bits, r.idx))).toEqual([1, 1, 1, 1]);
  });

  it("reports entries never issued, and lists that do not exist, without changing anything", async () => {
    const person = await newPerson();
    const [ref] = await issue(person, 1);
    const free = (ref!.idx + 1) % LIST_SIZE;
    const change = await setListStatus(
      testEnv,
      [
        { list: ref!.list, idx: free },
        { list: "99-0", idx: 1 },
        { list: ref!.list, idx: -1 },
      ],
      STATUS.invalid,
      6_000,
    );
    expect(change.unknown).toHaveLength(3);
    expect(change.changed).toEqual([]);
    expect(statusAt((await readListBits(testEnv, ref!.list))!, free)).toBe(0);
    expect(await readListBits(testEnv, "99-0")).toBeNull();
    expect(await readListBits(testEnv, `${ref!.list.split("-")[0]}-5000`)).toBeNull();
  });

  it("keeps the ledger, the statuses and the counter across a restart", async () => {
    const person = await newPerson();
    const before = await issue(person, 2);
    await setListStatus(testEnv, [before[0]!], STATUS.suspended, 7_000);
    await abortAllDurableObjects();
    const after = await issue(person, 2);
    const all = [...before, ...after];
    expect(new Set(all.map((r) => `${r.list}/${r.idx}`)).size).toBe(4);
    const ledger = await credentialsOfPerson(testEnv, person);
    expect(ledger.map((e) => [e.idx, e.status])).toEqual(all.map((r, i) => [r.idx, i === 0 ? STATUS.suspended : STATUS.valid]));
  });
});
