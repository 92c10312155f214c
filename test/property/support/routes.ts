import type { Contract } from "./contract";

/**
 * Every endpoint the Worker serves, with what it may answer to a request carrying random input and no
 * valid credential (the routing property sends exactly that). routes.test.ts checks this table against
 * the app's own route list, so an endpoint added later fails the suite until it is listed here.
 *
 * Statuses every endpoint may give to any request, on top of its own: 404/405 (wrong method or path),
 * 413 (body over the limit), 414/431 (URL or headers over their limits).
 */
export const ANYWHERE = [404, 405, 413, 414, 431] as const;

/** Join and poll are rate-limited per client (429) and joins may ask for a proof of work first. */
const THROTTLED = [429] as const;

export interface RouteContract extends Contract {
  method: string;
  path: string;
  /** Not sent random bodies by the routing property (seeding writes thousands of rows). */
  noRandomPost?: true;
}

const admin = (method: string, path: string): RouteContract => ({ method, path, allowed: [401, 403] });

export const ROUTES: readonly RouteContract[] = [
  { method: "GET", path: "/.well-known/jwks.json", allowed: [200] },
  { method: "GET", path: "/.well-known/openid-credential-issuer", allowed: [200] },
  { method: "GET", path: "/.well-known/oauth-authorization-server", allowed: [200] },
  { method: "GET", path: "/.well-known/jwt-vc-issuer", allowed: [200] },
  { method: "POST", path: "/v1/rooms/:room/tickets", allowed: [400, 401, 403, 404, 415, 422, 428, ...THROTTLED] },
  { method: "GET", path: "/v1/rooms/:room/tickets/current", allowed: [401, 404, ...THROTTLED] },
  // Approving a handoff wallet: the ticket is checked first, so without one nothing else is read.
  { method: "POST", path: "/v1/rooms/:room/tickets/current/handoff", allowed: [401, 404, ...THROTTLED] },
  { method: "POST", path: "/v1/rooms/:room/challenge", allowed: [200, 400, 404, 415, 422, ...THROTTLED] },
  { method: "GET", path: "/v1/rooms/:room", allowed: [200, 404] },
  { method: "GET", path: "/v1/rooms/:room/lottery", allowed: [200, 404] },
  admin("PUT", "/v1/admin/rooms/:room"),
  admin("POST", "/v1/admin/rooms/:room/lottery/reveal"),
  admin("GET", "/v1/admin/rooms/:room"),
  admin("DELETE", "/v1/admin/rooms/:room/sessions/:ticket"),
  admin("PUT", "/v1/admin/register"),
  admin("GET", "/v1/admin/register"),
  admin("GET", "/v1/admin/metrics"),
  admin("POST", "/v1/admin/credentials/by-person/:action"),
  admin("POST", "/v1/admin/credentials/by-index/:action"),
  admin("GET", "/v1/admin/audit"),
  { method: "POST", path: "/v1/dev/identity-assertions", allowed: [201, 400, 415, 422] },
  { method: "POST", path: "/v1/dev/wallet-attestations", allowed: [201, 400, 415, 422] },
  { method: "POST", path: "/v1/dev/key-attestations", allowed: [201, 400, 415, 422] },
  admin("GET", "/v1/dev/faults"),
  admin("PUT", "/v1/dev/faults"),
  admin("DELETE", "/v1/dev/faults"),
  { method: "POST", path: "/v1/dev/register/seed", allowed: [200], noRandomPost: true },
  { method: "POST", path: "/v1/dev/register/licence-status", allowed: [200, 400, 404, 415, 422] },
  { method: "POST", path: "/v1/dev/register/sync", allowed: [200] },
  { method: "GET", path: "/rooms/:room", allowed: [200, 404], html: true },
  { method: "GET", path: "/admin", allowed: [401], html: true },
  { method: "POST", path: "/admin/login", allowed: [303, 401, 403, 415], html: true },
  { method: "POST", path: "/admin/logout", allowed: [303, 403] },
  { method: "GET", path: "/admin/assets/:file", allowed: [200, 404] },
  { method: "POST", path: "/token", allowed: [400] },
  // The authorization code flow: PAR needs a wallet attestation; the browser routes answer pages.
  { method: "POST", path: "/par", allowed: [400, 401, ...THROTTLED] },
  { method: "GET", path: "/authorize", allowed: [400, ...THROTTLED], html: true },
  { method: "GET", path: "/authorize/wait", allowed: [400, ...THROTTLED], html: true },
  { method: "GET", path: "/authorize/callback", allowed: [400, ...THROTTLED], html: true },
  // The embedded OpenID Connect provider (development): discovery, keys, its form and token endpoint.
  { method: "GET", path: "/v1/dev/oidc/.well-known/openid-configuration", allowed: [200] },
  { method: "GET", path: "/v1/dev/oidc/jwks", allowed: [200] },
  { method: "GET", path: "/v1/dev/oidc/authorize", allowed: [200, 400], html: true },
  { method: "POST", path: "/v1/dev/oidc/authorize", allowed: [303, 400] },
  { method: "POST", path: "/v1/dev/oidc/token", allowed: [400, 401] },
  // A handoff offer by reference: no random id is one.
  { method: "GET", path: "/offers/:id", allowed: [404] },
  { method: "POST", path: "/nonce", allowed: [200] },
  { method: "POST", path: "/credential", allowed: [400, 401, 415] },
  { method: "POST", path: "/deferred_credential", allowed: [400, 401, 415] },
  { method: "POST", path: "/notification", allowed: [400, 401, 415] },
  { method: "GET", path: "/iaca.pem", allowed: [200] },
  { method: "GET", path: "/iacas", allowed: [200] },
  // Any list name: a list (every shard's generation 0 exists), or not one; Accept may rule out both formats.
  { method: "GET", path: "/status-lists/:list", allowed: [200, 404, 406] },
  { method: "GET", path: "/openapi.json", allowed: [200] },
];

/** The contract for `method` on a concrete path built from `route` (HEAD reads like GET). */
export function contractFor(route: RouteContract, method: string): Contract {
  const same = method.toUpperCase() === route.method || (method.toUpperCase() === "HEAD" && route.method === "GET");
  if (same) return { allowed: [...route.allowed, ...ANYWHERE], html: route.html === true };
  // The admin guard runs for every method under its prefix, before routing finds no handler.
  const guarded = route.path.startsWith("/v1/admin/") || route.path.startsWith("/v1/dev/faults");
  return { allowed: guarded ? [401, 403, ...ANYWHERE] : [...ANYWHERE] };
}

function patternOf(route: RouteContract): RegExp {
  const escaped = route.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]+"); // every parameter, whatever its name
  return new RegExp(`^${escaped}$`);
}

/**
 * The contract for a request as it arrives, judged on its final path (the URL parser has already
 * resolved dot segments, so a template filled with ".." may land on another route, or none): the union
 * of what every route matching that path may answer to this method.
 */
export function contractForPath(method: string, pathname: string): Contract {
  const allowed = new Set<number>(ANYWHERE);
  let html = false;
  for (const route of ROUTES) {
    if (!patternOf(route).test(pathname)) continue;
    const c = contractFor(route, method);
    for (const s of c.allowed) allowed.add(s);
    html ||= c.html === true;
  }
  // The admin guard runs for every method and path under its prefixes, before routing.
  if (/^\/v1\/admin(\/|$)/.test(pathname) || /^\/v1\/dev\/faults(\/|$)/.test(pathname)) {
    allowed.add(401);
    allowed.add(403);
  }
  return { allowed: [...allowed], html };
}

/**
 * By hand, the class a request that finds no handler must get: 404 for a path no route has, 405 for a
 * route's path asked with another method. Null where a handler runs (or a guard answers first).
 */
export function expectedMiss(method: string, pathname: string): 404 | 405 | null {
  if (/^\/v1\/admin(\/|$)/.test(pathname) || /^\/v1\/dev\/faults(\/|$)/.test(pathname)) return null;
  const m = method.toUpperCase();
  const here = ROUTES.filter((r) => patternOf(r).test(pathname));
  if (here.length === 0) return 404;
  return here.some((r) => r.method === m || (m === "HEAD" && r.method === "GET")) ? null : 405;
}
