import { env } from "cloudflare:workers";
import { ensureRegisterSchema, personIdFor, seedRegister, seededLicenceStatus, syntheticHolder } from "../../src/register/seed";
import { testClock } from "./api";

/**
 * Creates and seeds the test register with `seeded` synthetic holders, and returns the person ids whose
 * licence is valid on the test clock's date (about 84 % of them) and not suspended or withdrawn, in
 * register order.
 */
export async function seedValidHolders(seeded: number): Promise<string[]> {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, seeded);
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids: string[] = [];
  for (let n = 1; n <= seeded; n++)
    if (syntheticHolder(n).expiry_date > today && seededLicenceStatus(n) === "valid") ids.push(personIdFor(n));
  return ids;
}
