import { clearStatusListMemory } from "../status/status-list-cache";
import { statusListUri } from "../status/status-values";

/**
 * Drops what this location holds of `lists`' Status List Tokens, so the next fetch here signs a fresh
 * token with the change in it: this isolate's copies (src/status/status-list-cache.ts keeps every list's
 * tokens in memory for their ttl; cleared whole, as it has no per-list forget, which costs one rebuild
 * per list and format afterwards) and the location's edge cache entries (`caches.default`). Other
 * isolates and locations keep theirs until the token's ttl runs out: the Cache API is per location, and
 * a global purge needs the zone's purge API (an account token the Worker does not hold).
 * docs/credential-lifecycle.md gives the bound.
 */
export async function purgeCachedLists(issuer: string, lists: Iterable<string>): Promise<void> {
  const names = [...lists];
  if (names.length === 0) return;
  clearStatusListMemory();
  const cache = (globalThis as { caches?: { default?: Cache } }).caches?.default;
  if (!cache) return;
  await Promise.all(names.flatMap((list) => statusListCacheKeys(issuer, list).map((key) => cache.delete(key))));
}

/**
 * The edge cache keys of a list's tokens: the list's uri with the format as a query, as
 * status-list-cache.ts stores them (the Cache API ignores `Vary: Accept`, so each format has its own).
 * test/lifecycle/admin-lifecycle.test.ts fetches a list over HTTP before and after a change, so the two
 * cannot drift apart unnoticed.
 */
function statusListCacheKeys(issuer: string, list: string): string[] {
  const uri = statusListUri(issuer, list);
  return [`${uri}?format=jwt`, `${uri}?format=cwt`];
}
