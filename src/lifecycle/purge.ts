import { statusListUri } from "../status/status-values";

/**
 * Drops this location's cached Status List Tokens of `lists` (Cache API, `caches.default`), so the next
 * fetch here signs a fresh token with the change in it. Other locations keep theirs until its ttl runs
 * out: the Cache API is per location, and a global purge needs the zone's purge API (an account token
 * the Worker does not hold). docs/credential-lifecycle.md gives the bound.
 *
 * The cache keys are the list's `uri` (the JWT form) and the same with `?format=cwt` for the CWT form:
 * the status list route caches each representation under its own URL, because the Cache API ignores
 * `Vary: Accept`.
 */
export async function purgeCachedLists(issuer: string, lists: Iterable<string>): Promise<void> {
  const cache = (globalThis as { caches?: { default?: Cache } }).caches?.default;
  if (!cache) return;
  const deletions: Promise<boolean>[] = [];
  for (const list of lists) {
    for (const key of statusListCacheKeys(issuer, list)) deletions.push(cache.delete(key));
  }
  await Promise.all(deletions);
}

/** Every cache key a list's tokens are stored under in one location. */
export function statusListCacheKeys(issuer: string, list: string): string[] {
  const uri = statusListUri(issuer, list);
  return [uri, `${uri}?format=cwt`];
}
