import { env } from "cloudflare:workers";
import { calculateJwkThumbprint } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../../src/app";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import {
  ADMIN_TOKEN,
  ORIGIN,
  adminGet,
  adminPut,
  call,
  checkAnswersAgainstOpenApiInThisFile,
  createRoom,
  expectProblem,
  join,
  poll,
  testClock,
  tick,
} from "../helpers/api";
import { approve, askToken, scannedCode } from "../helpers/handoff";
import { openApiDocument, openApiMismatches } from "../helpers/openapi-check";
import { MDOC, SD_JWT, admittedOffer, credential, decodeJwt, nonce, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * GET /openapi.json (src/http/openapi): an OpenAPI 3.1 document generated from the routes' zod schemas.
 * It must describe every route the production app serves and nothing else, and every answer the main
 * flows get must match it: this file turns on the response check of test/helpers/api.ts, so each
 * request below (through `call`, `join` and the wallet helpers) fails unless its answer conforms.
 */
type Json = Record<string, any>;

const SEEDED = 20;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
});
checkAnswersAgainstOpenApiInThisFile();

function validHolderId(): string {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  for (let n = 1; n <= SEEDED; n++) if (syntheticHolder(n).expiry_date > today) return personIdFor(n);
  throw new Error("no seeded holder with a valid licence");
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

function operationsOf(doc: Json): { method: string; path: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op: op as Json })),
  );
}

/** Every `$ref` anywhere in the document. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document whose references, parameters, security and schemas all hold", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as Json;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe("string");
    expect(typeof doc.info.version).toBe("string");
    expect(doc.servers).toEqual([{ url: ORIGIN }]);
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThan(20);
    // Operation ids are what generated clients name their methods: present and unique.
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set((doc.tags as Json[]).map((t) => t.name));
    const schemes = new Set(Object.keys(doc.components.securitySchemes));
    for (const { method, path, op } of ops) {
      const where = `${method} ${path}`;
      expect(path, where).toMatch(/^\//);
      expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(op.responses as Json)) {
        expect(status, where).toMatch(/^([1-5][0-9]{2}|default)$/);
        expect(typeof (response.description ?? response.$ref), where).toBe("string");
      }
      for (const tag of op.tags) expect(tags.has(tag), `${where} tag ${tag}`).toBe(true);
      for (const requirement of op.security ?? [])
        for (const name of Object.keys(requirement)) expect(schemes.has(name), `${where} ${name}`).toBe(true);
      // Each {param} of the path is declared exactly once as a required path parameter, and no other.
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p: Json) => p.in === "path");
      expect(declared.map((p: Json) => p.name).sort(), where).toEqual(inPath);
      expect(
        declared.every((p: Json) => p.required === true),
        where,
      ).toBe(true);
    }
    // Every reference resolves inside the document.
    for (const ref of new Set(refsIn(doc))) {
      expect(ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split("/")
        .reduce((at: any, part) => at?.[part], doc);
      expect(target, ref).toBeDefined();
    }
    // Every component is a JSON Schema a validator can load (with the others it refers to).
    const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'));
    for (const [name, schema] of Object.entries(defs)) {
      expect(() => z.fromJSONSchema({ ...(schema as Json), $defs: defs }), name).not.toThrow();
    }
  });

  it("has an operation for every route of the production app, and a route for every operation", async () => {
    const doc = await openApiDocument(ORIGIN);
    const served = new Set(
      createApp()
        .routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method.toLowerCase()} ${(r.path.replace(/\/$/, "") || "/").replace(/:([A-Za-z_]+)/g, "{$1}")}`),
    );
    const documented = new Set(operationsOf(doc).map((o) => `${o.method} ${o.path}`));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    // The development kit's routes are not part of any deployment, so not of the document.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/v1/dev"))).toEqual([]);
  });

  it("in a deployment names PUBLIC_ORIGIN as its server whatever the Host, and without it is 503 not-configured", async () => {
    const { createExecutionContext } = await import("cloudflare:test");
    const app = createApp();
    // A forged Host: the document must still name the configured origin (it is cacheable).
    const deployed = (vars: Record<string, unknown>) =>
      Promise.resolve(
        app.fetch(
          new Request("https://evil.example/openapi.json"),
          { ...env, ENVIRONMENT: "production", ...vars },
          createExecutionContext(),
        ),
      );
    const res = await deployed({ PUBLIC_ORIGIN: "https://permis.example.fr" });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Json;
    expect(doc.servers).toEqual([{ url: "https://permis.example.fr" }]);
    expect(doc.paths).toEqual((await openApiDocument(ORIGIN)).paths);
    await expectProblem(await deployed({ PUBLIC_ORIGIN: undefined }), 503, "not-configured");
  });

  it("the check refuses answers the document does not describe (undocumented member, status, media type, missing member)", async () => {
    const poll = `${ORIGIN}/v1/rooms/r1/tickets/current`;
    const json = (body: unknown, status = 200, type = "application/json") =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
    const waiting = { status: "waiting", position: 3, estimated_wait_seconds: 12, poll_after_seconds: 5 };
    expect(await openApiMismatches("GET", poll, json(waiting))).toEqual([]);
    // A member no schema declares (a person identifier leaking into the poll, say).
    expect(await openApiMismatches("GET", poll, json({ ...waiting, person_id: "FR-000001" }))).not.toEqual([]);
    expect(await openApiMismatches("GET", poll, json({ ...waiting, position: 0 }))).not.toEqual([]);
    expect(await openApiMismatches("GET", poll, json({ status: "waiting", position: 3 }))).not.toEqual([]);
    expect(await openApiMismatches("GET", poll, json(waiting, 418))).not.toEqual([]);
    expect(await openApiMismatches("GET", poll, json(waiting, 200, "text/plain"))).not.toEqual([]);
    // A refusal must be a problem document, in its media type.
    const problem = { type: "urn:antichambre:problem:invalid-ticket", title: "Invalid queue ticket", status: 401, detail: "x" };
    expect(await openApiMismatches("GET", poll, json(problem, 401, "application/problem+json"))).toEqual([]);
    expect(await openApiMismatches("GET", poll, json(problem, 401))).not.toEqual([]);
    expect(await openApiMismatches("GET", poll, json({ error: "nope" }, 401, "application/problem+json"))).not.toEqual([]);
    expect(await openApiMismatches("PATCH", poll, json(waiting))).not.toEqual([]);
    expect(await openApiMismatches("GET", `${ORIGIN}/nowhere/at/all`, json(waiting))).not.toEqual([]);
  });
});

describe("every answer of the main flows matches the document (checked on each request)", () => {
  it("join, poll while waiting and admitted, handoff, token, nonce, credential, notification, operator session end", async () => {
    const room = await createRoom();
    const phone = await join(room, { personId: validHolderId() });
    expect(phone.status).toBe(201);
    expect(phone.body.status).toBe("waiting");
    expect((await join(room, { device: phone.device, personId: phone.personId })).status).toBe(200);
    expect((await poll(room, phone.ticket)).body.status).toBe("waiting");
    await tick(room);
    const { code } = await admittedOffer(room, phone.ticket);

    // A wallet on another device: offer by reference, pending until the page approves, then its own token.
    const wallet = (await walletKeys(1))[0]!;
    const handoffCode = await scannedCode(room, phone.ticket);
    const pending = await askToken(wallet, handoffCode);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe("authorization_pending");
    expect((await approve(room, phone.ticket, phone.device, pending.confirmation!)).status).toBe(200);

    const t = await token(phone.device, code);
    expect(t.status).toBe(200);
    const issued = await credential(phone.device, t.body.access_token, SD_JWT, await walletKeys(1));
    expect(issued.status).toBe(200);
    const mdoc = await credential(phone.device, t.body.access_token, MDOC, await walletKeys(1), await nonce());
    expect(mdoc.status).toBe(200);
    const noted = await withAccess("/notification", phone.device, t.body.access_token, {
      notification_id: issued.body.notification_id,
      event: "credential_failure",
    });
    expect(noted.status).toBe(204);

    // The operator ends the session (the admission token's sub is the ticket id); the token then stops working.
    const admission = (await poll(room, phone.ticket)).body.admission;
    const sub = decodeJwt(admission.admission_token).sub!;
    expect((await call(`/v1/admin/rooms/${room}/sessions/${sub}`, { method: "DELETE", headers: admin })).status).toBe(204);
    const after = await credential(phone.device, t.body.access_token, SD_JWT, await walletKeys(1));
    expect([after.status, after.body.error]).toEqual([401, "invalid_token"]);
  });

  it("rooms, events and lotteries, the challenge, and the operators' API", async () => {
    const now = testClock.now();
    const event = { prequeue_start: new Date(now + 3_600_000).toISOString(), event_start: new Date(now + 7_200_000).toISOString() };
    const room = await createRoom({ event });
    const view = (await (await call(`/v1/rooms/${room}`)).json()) as Json;
    expect(view.event.phase).toBe("before");
    expect((await call(`/v1/rooms/${room}/lottery`)).status).toBe(200);
    await expectProblem(await call(`/v1/admin/rooms/${room}/lottery/reveal`, { method: "POST", headers: admin }), 409, "conflict");
    expect((await adminPut(room, { paused: true })).status).toBe(200);
    expect((await adminGet(room)).config.paused).toBe(true);
    const device = (await walletKeys(1))[0]!;
    const jkt = await calculateJwkThumbprint(device.publicJwk, "sha256");
    const challenge = await call(`/v1/rooms/${room}/challenge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jkt }),
    });
    expect(challenge.status).toBe(200);
    expect((await call("/v1/admin/register", { headers: admin })).status).toBe(200);
    expect(
      (
        await call("/v1/admin/register", {
          method: "PUT",
          headers: { ...admin, "content-type": "application/json" },
          body: JSON.stringify({ simulated_latency_ms: null }),
        })
      ).status,
    ).toBe(200);
    const metrics = await call(`/v1/admin/metrics?room=${room}`, { headers: admin });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE");
  });

  it("discovery, trust anchors and pages", async () => {
    for (const path of [
      "/.well-known/jwks.json",
      "/.well-known/openid-credential-issuer",
      "/.well-known/oauth-authorization-server",
      "/.well-known/jwt-vc-issuer",
      "/iacas",
      "/iaca.pem",
    ]) {
      expect((await call(path)).status, path).toBe(200);
    }
    const room = await createRoom();
    expect((await call(`/rooms/${room}`)).status).toBe(200);
    expect((await call("/admin")).status).toBe(401);
  });

  it("problem documents: bad input, unknown room and ticket, missing credentials, unknown code, wrong method", async () => {
    const room = await createRoom();
    await expectProblem(await call(`/v1/rooms/${room}/tickets/current`), 401, "invalid-ticket");
    await expectProblem(
      await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: "Bearer forged.ticket" } }),
      401,
      "invalid-ticket",
    );
    await expectProblem(await call("/v1/rooms/no-such-room-here"), 404, "not-found");
    await expectProblem(await call(`/v1/rooms/${room}/lottery`), 404, "not-found");
    await expectProblem(
      await call(`/v1/rooms/${room}/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
      400,
      "invalid-json",
    );
    const bad = await join(room, {
      init: { headers: { "content-type": "application/json" }, body: JSON.stringify({ identity_assertion: "", extra: 1 }) },
    });
    expect(bad.status).toBe(422);
    const text = await join(room, { init: { headers: { "content-type": "text/plain" }, body: "hello" } });
    expect(text.status).toBe(415);
    const device = (await walletKeys(1))[0]!;
    const t = await token(device, "not-a-code");
    expect([t.status, t.body.error]).toEqual([400, "invalid_grant"]);
    await expectProblem(await call("/credential", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 401);
    await expectProblem(await call("/notification", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 401);
    await expectProblem(await call("/offers/nothing-here"), 404);
    await expectProblem(await call(`/v1/admin/rooms/${room}`), 401);
    await expectProblem(await call(`/v1/admin/rooms/${room}/sessions/not-a-ticket`, { method: "DELETE", headers: admin }), 422);
    await expectProblem(await call("/nonce"), 405, "method-not-allowed");
    await expectProblem(await call("/admin/assets/none.js"), 404);
  });
});
