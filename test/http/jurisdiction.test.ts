import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { createDevApp } from "../../src/dev/kit";
import { coordinatorOf, replayGuardAt, sessionsAt, shardOf } from "../../src/edge/objects";
import { ADMIN_TOKEN, ORIGIN, expectProblem } from "../helpers/api";

/**
 * Data residency (docs/operations.md, "EU jurisdiction"): with DATA_JURISDICTION = "eu" every Durable
 * Object the Worker and the objects address is made through `namespace.jurisdiction("eu")`
 * (src/edge/objects.ts), so queue tickets with their pseudonyms, sessions and one-time values are
 * created and kept in the EU; COORDINATOR_LOCATION_HINT places a room's coordinator near its crowd.
 *
 * workerd does not implement jurisdictions (`jurisdiction()` throws "not implemented", checked below),
 * so the helpers are driven over recording namespaces wrapped around the real ones: what is checked is
 * that every stub is made from the jurisdiction's namespace, by the name it always had. That the EU
 * objects are in the EU is Cloudflare's part, and the deploy steps for it are in docs/operations.md.
 */
const app = createDevApp();
const send = (config: Env, path: string, init: RequestInit = {}) =>
  app.fetch(new Request(`${ORIGIN}${path}`, init), config, createExecutionContext());

type Binding = "ROOM_COORDINATOR" | "QUEUE_SHARD" | "REPLAY_GUARD" | "ISSUANCE_SESSIONS";
const BINDINGS: Binding[] = ["ROOM_COORDINATOR", "QUEUE_SHARD", "REPLAY_GUARD", "ISSUANCE_SESSIONS"];

/** What a helper did with a namespace: in which jurisdiction it made which name's stub, with what options. */
interface Use {
  binding: Binding;
  jurisdiction: string | null;
  name: string;
  options: unknown;
}

/** The env's namespaces, each wrapped to record its uses; stubs are the real ones (default namespace). */
function recordingEnv(vars: Partial<Env>): { env: Env; uses: Use[] } {
  const uses: Use[] = [];
  const wrap = (binding: Binding, jurisdiction: string | null): DurableObjectNamespace => {
    const real = env[binding] as unknown as DurableObjectNamespace;
    const names = new Map<DurableObjectId, string>();
    return {
      idFromName(name: string) {
        const id = real.idFromName(name);
        names.set(id, name);
        return id;
      },
      get(id: DurableObjectId, options?: unknown) {
        uses.push({ binding, jurisdiction, name: names.get(id) ?? "?", options });
        return real.get(id);
      },
      jurisdiction(j: string) {
        if (jurisdiction !== null) throw new Error("a jurisdiction of a jurisdiction");
        return wrap(binding, j);
      },
    } as unknown as DurableObjectNamespace;
  };
  const bindings = Object.fromEntries(BINDINGS.map((b) => [b, wrap(b, null)]));
  return { env: { ...env, ...bindings, ...vars } as Env, uses };
}

/** One stub from each helper. */
function everyHelper(e: Env) {
  coordinatorOf(e, "permis");
  shardOf(e, "permis", 3);
  replayGuardAt(e, 5);
  sessionsAt(e, 7);
}

const NAMES: [Binding, string][] = [
  ["ROOM_COORDINATOR", "permis"],
  ["QUEUE_SHARD", "permis#3"],
  ["REPLAY_GUARD", "replay#5"],
  ["ISSUANCE_SESSIONS", "sessions#7"],
];

describe("Durable Objects in the EU jurisdiction", () => {
  it('with DATA_JURISDICTION = "eu" every stub helper makes its stub from the EU namespace, by the same name', () => {
    const { env: eu, uses } = recordingEnv({ DATA_JURISDICTION: "eu" });
    everyHelper(eu);
    expect(uses).toEqual(NAMES.map(([binding, name]) => ({ binding, jurisdiction: "eu", name, options: undefined })));
  });

  it("without it (unset or empty) no helper asks for a jurisdiction", () => {
    for (const value of [undefined, ""]) {
      const { env: plain, uses } = recordingEnv({ DATA_JURISDICTION: value });
      everyHelper(plain);
      expect(uses).toEqual(NAMES.map(([binding, name]) => ({ binding, jurisdiction: null, name, options: undefined })));
    }
  });

  it("the Worker's own requests go through the helpers: an eu deployment creates a room in the EU coordinator", async () => {
    const { env: eu, uses } = recordingEnv({ DATA_JURISDICTION: "eu" });
    const room = `eu-${Date.now().toString(36)}`;
    const res = await send(eu, `/v1/admin/rooms/${room}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ new_users_per_minute: 60 }),
    });
    expect(res.status).toBe(201);
    expect(uses).toContainEqual({ binding: "ROOM_COORDINATOR", jurisdiction: "eu", name: room, options: undefined });
    expect(uses.every((u) => u.jurisdiction === "eu")).toBe(true);
  });

  it("COORDINATOR_LOCATION_HINT reaches the coordinator's stub only, in the EU too; unset, no hint is given", async () => {
    const { env: hinted, uses } = recordingEnv({ DATA_JURISDICTION: "eu", COORDINATOR_LOCATION_HINT: "weur" });
    everyHelper(hinted);
    expect(uses.map((u) => u.options)).toEqual([{ locationHint: "weur" }, undefined, undefined, undefined]);
    expect(uses[0]).toMatchObject({ binding: "ROOM_COORDINATOR", jurisdiction: "eu" });
    // workerd takes the hint on a real stub (one location: it changes nothing here).
    const real = coordinatorOf({ ...env, COORDINATOR_LOCATION_HINT: "weur" } as Env, `hinted-${Date.now().toString(36)}`);
    expect(await real.stats()).toEqual({ ok: false, reason: "no_room" });
  });

  it("workerd itself refuses jurisdiction(): when it learns it, these tests should run on the real namespaces", () => {
    expect(() => env.ROOM_COORDINATOR.jurisdiction("eu")).toThrow(/not implemented/);
  });

  it("refuses a jurisdiction or a location hint it does not know: 503 not-configured naming the variable", async () => {
    for (const [name, value] of [
      ["DATA_JURISDICTION", "us"],
      ["DATA_JURISDICTION", "EU"],
      ["COORDINATOR_LOCATION_HINT", "paris"],
    ] as const) {
      const body = await expectProblem(await send({ ...env, [name]: value }, "/v1/rooms/permis"), 503, "not-configured");
      expect(body.invalid_settings).toEqual([{ name, reason: expect.any(String) }]);
    }
    // Unset or empty: no jurisdiction, as before.
    for (const value of [undefined, ""]) expect((await send({ ...env, DATA_JURISDICTION: value }, "/v1/rooms/permis")).status).toBe(200);
  });

  it("no file outside src/edge/objects.ts makes a stub from a name, and every helper there goes through the jurisdiction", () => {
    const sources = import.meta.glob(["../../src/**/*.ts", "../../durable-objects/*.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    }) as Record<string, string>;
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const offenders = Object.entries(sources)
      .filter(([path]) => !path.endsWith("/src/edge/objects.ts"))
      .filter(([, text]) => /\.(idFromName|idFromString|newUniqueId|getByName)\(/.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
    // And in src/edge/objects.ts itself, every stub comes from `placed(env, namespace)`, never from the
    // binding directly: a new helper that skipped it would put its objects outside the jurisdiction.
    const objects = Object.entries(sources).find(([path]) => path.endsWith("/src/edge/objects.ts"))![1];
    expect(objects.match(/env\.[A-Z_]+\.(get|idFromName|getByName)\(/g) ?? []).toEqual([]);
    expect(objects.match(/placed\(env, env\.[A-Z_]+\)/g)?.length).toBeGreaterThanOrEqual(4);
  });
});
