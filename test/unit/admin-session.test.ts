import { describe, expect, it } from "vitest";
import { mintSession, SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS, verifySession } from "../../src/http/admin-session";

const T0 = Date.UTC(2026, 11, 1, 8);
const TOKEN = "a-long-admin-token";

describe("admin dashboard sessions", () => {
  it("verify for their lifetime, under the token that minted them", async () => {
    const value = await mintSession(TOKEN, T0, T0);
    expect(value).not.toContain(TOKEN);
    expect(await verifySession(TOKEN, value, T0 + 1000)).toEqual({ issuedAt: T0, expiresAt: T0 + SESSION_IDLE_SECONDS * 1000 });
    expect(await verifySession(TOKEN, value, T0 + SESSION_IDLE_SECONDS * 1000)).toBeNull();
    // Rotating the admin token ends every session.
    expect(await verifySession("another-token", value, T0 + 1000)).toBeNull();
  });

  it("refuse tampering: a longer expiry, a changed MAC, garbage", async () => {
    const value = await mintSession(TOKEN, T0, T0);
    const [v, iat, exp, nonce, mac] = value.split(".");
    expect(await verifySession(TOKEN, [v, iat, Number(exp) + 3600, nonce, mac].join("."), T0)).toBeNull();
    expect(await verifySession(TOKEN, [v, iat, exp, nonce, `${mac!.slice(0, -2)}AA`].join("."), T0)).toBeNull();
    for (const junk of ["", "v1", `${value}.x`, value.replace("v1", "v2"), "v1.1.2.abc.def"])
      expect(await verifySession(TOKEN, junk, T0)).toBeNull();
  });

  it("renewals never reach past the absolute maximum", async () => {
    const late = T0 + (SESSION_MAX_SECONDS - 600) * 1000;
    const renewed = await mintSession(TOKEN, T0, late);
    const session = await verifySession(TOKEN, renewed, late);
    expect(session?.expiresAt).toBe(T0 + SESSION_MAX_SECONDS * 1000);
  });
});
