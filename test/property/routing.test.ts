import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDevApp } from "../../src/dev/kit";
import { captureLogs, oversized, releaseLogs } from "./support/contract";
import { params, RUNS, SEED } from "./support/fc";
import { printTally, probe, toRequest, Watcher } from "./support/probe";
import { anyRequest } from "./support/requests";
import { contractForPath, expectedMiss, ROUTES } from "./support/routes";
import { replayTotals } from "./support/state";
import { legitimateFollowUps, makeWorld, type World } from "./support/world";

/**
 * Every endpoint, every method, and paths that are no endpoint: hostile paths, queries, headers and
 * bodies, none with a valid credential. Each answer must keep the contract (support/contract.ts), and
 * each refusal must leave the service exactly as it was (support/state.ts).
 */
let world: World;

beforeAll(async () => {
  captureLogs();
  world = await makeWorld();
  console.log(`routing properties: fast-check seed ${SEED} (FC_SEED=${SEED} replays them)`);
});
afterAll(() => {
  printTally("routing answers");
  releaseLogs();
});

describe("the route table", () => {
  it("lists every route the app serves", () => {
    const listed = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    const served = createDevApp()
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/\/$/, "") || "/"}`);
    expect(served.filter((r) => !listed.has(r))).toEqual([]);
  });
});

describe("any request to any path", () => {
  it("never answers 5xx, refuses in problem+json with the route's statuses, and a refusal changes nothing", async () => {
    const rooms = [world.room, world.other];
    const watcher = new Watcher(rooms);
    const replayBefore = await replayTotals();
    await fc.assert(
      fc.asyncProperty(anyRequest(rooms.map((r) => r.name)), async ({ spec }) => {
        // State lives behind the unsafe methods; a GET, HEAD or OPTIONS is checked against the contract
        // only (any change it made would still show at the next observed request).
        const observe = !/^(GET|HEAD|OPTIONS)$/i.test(spec.method);
        const pathname = new URL(toRequest(spec).url).pathname;
        const answer = await watcher.send(spec, contractForPath(spec.method, pathname), { observe });
        // By hand: no such path is 404, a path asked with a method it does not serve is 405 with Allow.
        const miss = expectedMiss(spec.method, pathname);
        if (miss !== null && !oversized(answer.status)) {
          expect(answer.status, `${spec.method} ${pathname}`).toBe(miss);
          if (miss === 405) expect(answer.headers.get("allow")).toMatch(/^[A-Z]+(, [A-Z]+)*$/);
        }
      }),
      params(RUNS.routing),
    );
    // No request here carries a valid DPoP proof or c_nonce: not one one-time value may have been claimed.
    expect(await replayTotals()).toEqual(replayBefore);
  });

  it("leaves every secret of the world usable (no refused request consumed a code, nonce or place)", async () => {
    await legitimateFollowUps(world);
  });
});

describe("a deployment (production, secrets missing)", () => {
  it("keeps the contract too: dev routes are 404, the admin API 403, signing endpoints 503 not-configured", async () => {
    const { env } = await import("cloudflare:workers");
    const { createExecutionContext } = await import("cloudflare:test");
    const app = createApp();
    const production = { ...env, ENVIRONMENT: "production", ADMIN_TOKEN: undefined };
    const fetcher = (request: Request) => Promise.resolve(app.fetch(request, production, createExecutionContext()));
    await fc.assert(
      fc.asyncProperty(anyRequest([world.room.name]), async ({ spec }) => {
        const pathname = new URL(toRequest(spec).url).pathname;
        const base = contractForPath(spec.method, pathname);
        // Without secrets: no dev routes (404), the admin API and dashboard switched off (403), and no
        // signing key, so anything that signs or seals is a deliberate 503 not-configured.
        const allowed = [...base.allowed, 403, 404, 503];
        await probe(spec, { ...base, allowed }, fetcher);
      }),
      params(RUNS.routingProduction),
    );
  });
});
