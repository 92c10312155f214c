import type { HmacKeyring } from "./keyring";

/**
 * A device's lottery draw in a `random` room: HMAC(ticket key, room, window, device thumbprint) as a
 * fraction in [0, 1). Unpredictable without the service's secret, so nobody can grind device keys for a
 * good draw; fixed per device and window, so re-joining cannot redraw.
 */
export async function lotteryRank(keys: HmacKeyring, room: string, windowStart: number, jkt: string): Promise<number> {
  const mac = await crypto.subtle.sign("HMAC", keys.signing.key, new TextEncoder().encode(`lottery:${room}:${windowStart}:${jkt}`));
  return new DataView(mac).getUint32(0) / 2 ** 32;
}
