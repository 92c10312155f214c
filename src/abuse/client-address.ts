/**
 * The coarse client key for join rate limits: which address a request came from, at the granularity
 * one subscriber controls. IPv4: the whole address (behind carrier-grade NAT that is many people, which
 * is why the limit per address is generous). IPv6: the /64 prefix, because a single host is usually
 * given a whole /64 and can pick a new address in it for every request.
 *
 * Pure string work. The result is never logged nor stored: src/edge/rate-limits.ts turns it into a keyed
 * hash before it becomes a rate-limit key.
 */
export type CoarseAddress = { readonly family: 4 | 6; readonly prefix: string; readonly local: boolean };

export function coarseAddress(raw: string | null | undefined): CoarseAddress | null {
  const ip = raw?.trim();
  if (!ip || ip.length > 64) return null;
  const v4 = parseIPv4(ip);
  if (v4) return { family: 4, prefix: v4.join("."), local: isLocalIPv4(v4) };
  const v6 = parseIPv6(ip);
  if (!v6) return null;
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is that IPv4 client.
  if (v6.slice(0, 5).every((h) => h === 0) && v6[5] === 0xffff) {
    const mapped = [v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff];
    return { family: 4, prefix: mapped.join("."), local: isLocalIPv4(mapped) };
  }
  return {
    family: 6,
    prefix: `${v6
      .slice(0, 4)
      .map((h) => h.toString(16))
      .join(":")}::/64`,
    local: isLocalIPv6(v6),
  };
}

function parseIPv4(ip: string): number[] | null {
  const parts = ip.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a trailing dotted IPv4; no zone ids. */
function parseIPv6(ip: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(ip)) return null;
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : null;
}

/**
 * Loopback, private, link-local, CGNAT-internal and unspecified addresses. Cloudflare always hands a
 * Worker the client's public address, so these are only ever seen locally (`npm start`, the surge and
 * soak tools on loopback); they are not limited by address (device and ticket limits still apply).
 */
function isLocalIPv4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! < 128) ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! < 32) ||
    (a === 192 && b === 168)
  );
}

function isLocalIPv6(g: number[]): boolean {
  const zeroHead = g.slice(0, 7).every((h) => h === 0);
  return (zeroHead && (g[7] === 0 || g[7] === 1)) || (g[0]! & 0xfe00) === 0xfc00 || (g[0]! & 0xffc0) === 0xfe80;
}
