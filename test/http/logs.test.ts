import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import { ADMIN_TOKEN, ORIGIN, createRoom, identityAssertion, newDevice, newPersonId, tick } from "../helpers/api";

/**
 * Logs carry no personal data: drive a join, polls, a tick and refused requests with identifying
 * material everywhere a client can put it (assertion, DPoP proof, ticket, addresses, user agent), capture
 * everything written to the console, and check every line is one JSON object naming none of it.
 * The Worker runs here with LOG_REQUESTS=all, so successful requests are logged too.
 */
const app = createDevApp();
const loud = { ...env, LOG_REQUESTS: "all" };
const send = (path: string, init: RequestInit) => app.fetch(new Request(`${ORIGIN}${path}`, init), loud, createExecutionContext());

afterEach(() => vi.restoreAllMocks());

function captureConsole(): unknown[][] {
  const calls: unknown[][] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void calls.push(args));
  }
  return calls;
}

describe("structured logs", () => {
  it("are one JSON object per line and never contain identifiers, tokens, proofs or addresses", async () => {
    const room = await createRoom({ shards: 1 });
    const personId = newPersonId();
    const assertion = await identityAssertion(personId);
    const device = await newDevice();
    const clientHeaders = {
      "cf-connecting-ip": "203.0.113.77",
      "x-forwarded-for": "198.51.100.23, 2001:db8::77",
      "user-agent": "SecretPhone/1.0 (owner Dupont)",
    };

    const lines = captureConsole();
    const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
    const proof = await device.proof("POST", url);
    const joined = await send(`/v1/rooms/${room}/tickets`, {
      method: "POST",
      headers: { "content-type": "application/json", dpop: proof, ...clientHeaders },
      body: JSON.stringify({ identity_assertion: assertion }),
    });
    expect(joined.status).toBe(201);
    const { ticket } = (await joined.json()) as { ticket: string };
    const claims = decodeJwt(ticket) as { sub: string; cnf: { jkt: string } };

    const pollOnce = () => send(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${ticket}`, ...clientHeaders } });
    expect((await pollOnce()).status).toBe(200);
    await tick(room);
    expect((await pollOnce()).status).toBe(200);
    // Refusals: a ticket with a broken signature, a replayed join proof for another room, a wrong admin token.
    const forged = `${ticket.slice(0, -6)}AAAAAA`;
    expect(
      (await send(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${forged}`, ...clientHeaders } })).status,
    ).toBe(401);
    const refusedJoin = await send(`/v1/rooms/permis/tickets`, {
      method: "POST",
      headers: { "content-type": "application/json", dpop: proof, ...clientHeaders },
      body: JSON.stringify({ identity_assertion: assertion }),
    });
    expect(refusedJoin.status).toBe(401);
    expect(
      (await send("/v1/admin/rooms/permis", { headers: { authorization: "Bearer guessed-admin-token-123", ...clientHeaders } })).status,
    ).toBe(401);
    vi.restoreAllMocks();

    const secrets = [
      personId,
      assertion,
      ...assertion.split("."),
      proof,
      ...proof.split("."),
      ticket,
      ...ticket.split("."),
      forged,
      claims.sub,
      claims.cnf.jkt,
      device.publicJwk.x!,
      device.publicJwk.y!,
      ADMIN_TOKEN,
      "guessed-admin-token-123",
      "203.0.113.77",
      "198.51.100.23",
      "2001:db8::77",
      "SecretPhone",
      "Dupont",
    ].filter((s) => s.length >= 6);

    expect(lines.length).toBeGreaterThanOrEqual(5);
    const parsed = lines.map((args) => {
      expect(args).toHaveLength(1);
      const line = args[0] as string;
      expect(typeof line).toBe("string");
      expect(line).not.toContain("\n");
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(typeof record.ts).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(record.level);
      expect(typeof record.event).toBe("string");
      for (const secret of secrets) expect(line, `a log line contains "${secret.slice(0, 12)}…"`).not.toContain(secret);
      return record;
    });

    const requests = parsed.filter((r) => r.event === "request");
    expect(requests).toContainEqual(
      expect.objectContaining({ method: "POST", route: "/v1/rooms/:room/tickets", room, status: 201, duration_ms: expect.any(Number) }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({ method: "GET", route: "/v1/rooms/:room/tickets/current", room, status: 200 }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ route: "/v1/rooms/:room/tickets/current", status: 401 }));
    expect(requests).toContainEqual(expect.objectContaining({ route: "/v1/rooms/:room/tickets", room: "permis", status: 401 }));
    expect(requests).toContainEqual(expect.objectContaining({ route: "/v1/admin/rooms/:room", status: 401 }));
  });

  it("with LOG_REQUESTS=errors, only refused and failed requests are logged", async () => {
    const lines = captureConsole();
    const quiet = { ...env, LOG_REQUESTS: "errors" };
    await app.fetch(new Request(`${ORIGIN}/v1/rooms/permis`), quiet, createExecutionContext());
    await app.fetch(new Request(`${ORIGIN}/v1/rooms/permis/tickets/current`), quiet, createExecutionContext());
    vi.restoreAllMocks();
    const records = lines.map((args) => JSON.parse(args[0] as string) as Record<string, unknown>).filter((r) => r.event === "request");
    expect(records.map((r) => r.status)).toEqual([401]);
  });
});
