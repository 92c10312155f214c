import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { coordinatorOf } from "../../src/edge/objects";
import { describe, expect, it } from "vitest";
import { call, createRoom, expectProblem, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

/** Probing room names (typos, scanners) must not leave a database per name behind. */
describe("unknown rooms", () => {
  const tables = (name: string) =>
    runInDurableObject(
      coordinatorOf(env, name),
      (_instance, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
          .one().n,
    );

  it("answer 404 and leave their coordinator without any table", async () => {
    const name = `nobody-${Date.now().toString(36)}`;
    await expectProblem(await call(`/v1/rooms/${name}`), 404, "not-found");
    await expectProblem(await call(`/v1/rooms/${name}/lottery`), 404, "not-found");
    expect(await tables(name)).toBe(0);
  });

  it("a created room has its tables", async () => {
    const room = await createRoom();
    expect(await tables(room)).toBeGreaterThanOrEqual(7);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
