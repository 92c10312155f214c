import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { withDevSecrets } from "../../src/dev/secrets";
import { credentialsOfPerson, ledgerPseudonym } from "../../src/status/ledger";
import { adminGet, createRoom } from "../helpers/api";
import { arm, disarmFaults, faultReport } from "../helpers/faults";
import { seedValidHolders } from "../helpers/register";
import { MDOC, SD_JWT, credential, walletKeys, issuanceSession } from "../helpers/wallet";

/**
 * The issuance ledger cannot be written (IssuanceLedger.record fails or hangs): a credential whose
 * status entry and ledger row were not written is never handed out. The wallet hears a retryable 503,
 * the session's reservation is given back, nothing is recorded, and the retry gets the credentials.
 */
const testEnv = withDevSecrets(env as unknown as Env);
let holders: string[] = [];

beforeAll(async () => {
  holders = await seedValidHolders(30);
});
afterEach(() => disarmFaults());

async function admittedSession(personId: string) {
  const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_credentials_per_configuration: 2 });
  return { room, ...(await issuanceSession(room, personId)) };
}

describe("ledger write failures", () => {
  it("hands out no credential when the ledger write fails, and gives the session's quota back", async () => {
    const personId = holders[5]!;
    const s = await admittedSession(personId);
    const keys = await walletKeys(2);
    arm({ "ledger.write": { mode: "throw", times: 2 } });
    for (const configuration of [SD_JWT, MDOC]) {
      const refused = await credential(s.device, s.accessToken, configuration, keys);
      expect(refused.status).toBe(503);
      expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
      expect(refused.body.type).toBe("urn:antichambre:problem:temporarily-unavailable");
      expect(refused.res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect(refused.body.credentials).toBeUndefined();
    }
    expect(faultReport().fired["ledger.write"]).toBe(2);
    const person = await ledgerPseudonym(testEnv, personId);
    expect(await credentialsOfPerson(testEnv, person)).toEqual([]);

    // The session may still obtain its whole quota (2 per configuration): nothing was spent on the failures.
    for (const configuration of [SD_JWT, MDOC]) {
      const issued = await credential(s.device, s.accessToken, configuration, keys);
      expect(issued.status).toBe(200);
      expect(issued.body.credentials).toHaveLength(2);
    }
    const ledger = await credentialsOfPerson(testEnv, person);
    expect(ledger.map((e) => e.format)).toEqual(["dc+sd-jwt", "dc+sd-jwt", "mso_mdoc", "mso_mdoc"]);
    expect((await adminGet(s.room)).sessions_open).toBe(1);
  });

  it("a ledger that hangs past the call deadline is a 503 too, and hands nothing out", async () => {
    const personId = holders[6]!;
    const s = await admittedSession(personId);
    const [key] = await walletKeys(1);
    arm({ "ledger.write": { mode: "delay", delayMs: 6_000, times: 1 } });
    const refused = await credential(s.device, s.accessToken, SD_JWT, [key!]);
    expect(refused.status).toBe(503);
    expect(refused.body.credentials).toBeUndefined();
    expect((await credential(s.device, s.accessToken, SD_JWT, [key!])).status).toBe(200);
  });
});
