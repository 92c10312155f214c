import fc from "fast-check";
import { ASSETS } from "../../../src/pages/dashboard/assets";
import {
  contentType,
  cookieHeader,
  headerValue,
  jsonBodyText,
  method,
  percentEncode,
  randomBytes,
  shortHostileString,
  type RawBody,
} from "./hostile";
import type { Spec } from "./probe";
import { ROUTES, type RouteContract } from "./routes";

/**
 * Whole requests: a route (or no route), a path built from hostile segments, a query, a header list and a
 * body. Used by the routing property, and as the noise around endpoint-specific generators.
 */

/** Room path segments: real rooms, unknown valid names, traversal, NUL, broken escapes, far too long. */
export function roomSegment(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: real.length > 0 ? fc.constantFrom(...real) : fc.constant("permis") },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,39}$/) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "..",
        "%2e%2e",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "permis%00",
        "a%00b",
        "%E0%A4%A",
        "%",
        "%zz",
        "PERMIS",
        "permis%20",
        "-x",
        "x".repeat(41),
        "%2F",
        "permis;x=1",
        "%252e%252e",
        "%C0%AE%C0%AE",
        "__proto__",
        "constructor",
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(41, 300, 9_000).map((n) => "r".repeat(n)) },
    { weight: 2, arbitrary: shortHostileString.map(percentEncode) },
  );
}

const querySegment = fc.oneof(
  shortHostileString.map(percentEncode),
  fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "", "a+b", "permis", "en", "fr"),
);

/** `?…`: the parameters the Worker reads (room, lang) and junk, repeated, malformed, huge. */
export const query: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("") },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom("room", "lang", "token", "__proto__", "constructor[prototype]"), querySegment), querySegment),
        { maxLength: 6 },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
  },
  { weight: 1, arbitrary: fc.constantFrom(33, 800).map((n) => `?${Array.from({ length: n }, (_, i) => `room=r${i}`).join("&")}`) },
  { weight: 1, arbitrary: fc.constantFrom(2_000, 12_000).map((n) => `?q=${"a".repeat(n)}`) },
);

/** A concrete path for a route template. */
export function pathFor(route: RouteContract, rooms: readonly string[]): fc.Arbitrary<string> {
  const asset = fc.oneof(fc.constantFrom(...Object.values(ASSETS).map((a) => a.path.split("/").pop()!)), roomSegment([]));
  const list = fc.oneof(fc.constantFrom("0-0", "7-0", "15-2", "16-0", "03-1", "1-99999999999"), roomSegment([]));
  const filled = fc
    .tuple(roomSegment(rooms), asset, list)
    .map(([room, file, name]) => route.path.replace(":room", room).replace(":file", file).replace(":id", file).replace(":list", name));
  const suffix = fc.oneof(
    { weight: 6, arbitrary: fc.constant("") },
    fc.constantFrom("/", "//", "/x", "/.", "/..", "%00", ";jsessionid=1", "#frag"),
  );
  return fc.tuple(filled, suffix, query).map(([p, s, q]) => `${p}${s}${q}`);
}

/** A path that is no route of ours: random segments under known prefixes and elsewhere. */
export const nowherePath: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("", "/v1", "/v1/rooms", "/v1/admin", "/v1/dev", "/.well-known", "/admin", "/rooms", "/static", "/v2"),
    fc.array(roomSegment([]), { minLength: 1, maxLength: 4 }),
    query,
  )
  .map(([prefix, segments, q]) => `${prefix}/${segments.join("/")}${q}`);

/** Authorization values: none valid, several nearly so. */
export const authorization: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "Bearer",
    "Bearer ",
    "Basic ZGV2LWFkbWluLXRva2VuOg==",
    "bearer dev-admin-tokeN",
    "Bearer dev-admin-tokeN",
    "Bearer dev-admin-token2",
    "Bearer  dev-admin-token",
    "Bearer dev-admin-token, Bearer x",
    "DPoP dev-admin-token",
    "Bearer a.b.c",
    "DPoP a.b.c.d.e",
    "Bearer ====",
  ),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue.map((v) => `DPoP ${v}`),
  headerValue,
);

const headerPair: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constant("authorization"), authorization) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constant("dpop"), fc.oneof(headerValue, fc.constantFrom("a.b.c", "eyJhbGciOiJub25lIn0.e30.", "...."))),
  },
  { weight: 3, arbitrary: fc.tuple(fc.constant("content-type"), contentType) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("cookie"), cookieHeader) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom(
        "accept-language",
        "origin",
        "sec-fetch-site",
        "x-antichambre-admin",
        "accept",
        "x-forwarded-for",
        "cf-connecting-ip",
        "user-agent",
        "if-none-match",
        "range",
        "x-forwarded-host",
        "x-http-method-override",
      ),
      headerValue,
    ),
  },
);

export const headers: fc.Arbitrary<[string, string][]> = fc.array(headerPair, { maxLength: 5 });

/** A form body (`a=b&…`) with hostile names and values, encoded or not. */
export const formText: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom("grant_type", "pre-authorized_code", "tx_code", "token", "room", "__proto__", "constructor"), querySegment),
      fc.oneof(
        querySegment,
        shortHostileString.map(percentEncode),
        fc.constant("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"),
      ),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));

/** Every member name any endpoint reads, for bodies that look almost right anywhere. */
const ALL_MEMBERS = [
  "identity_assertion",
  "person_id",
  "new_users_per_minute",
  "paused",
  "shards",
  "queueing_method",
  "event",
  "outflow",
  "simulated_latency_ms",
  "credential_configuration_id",
  "proofs",
  "notification_id",
  "event_description",
  "faults",
  "seed",
];

export const body: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: jsonBodyText(ALL_MEMBERS) },
  { weight: 2, arbitrary: formText },
  { weight: 2, arbitrary: randomBytes },
);

export interface Routed {
  route: RouteContract | null;
  spec: Spec;
}

/** Any request at all: to a route (its method mostly, any other sometimes) or to no route. */
export function anyRequest(rooms: readonly string[]): fc.Arbitrary<Routed> {
  const routed = fc.constantFrom(...ROUTES).chain((route) =>
    fc.record({
      route: fc.constant(route),
      spec: fc.record({
        method: fc
          .oneof({ weight: 3, arbitrary: fc.constant(route.method) }, method)
          .filter((m) => !(route.noRandomPost && m.toUpperCase() === "POST")),
        path: pathFor(route, rooms),
        headers,
        body,
      }),
    }),
  );
  const nowhere = fc.record({ route: fc.constant(null), spec: fc.record({ method, path: nowherePath, headers, body }) });
  return fc.oneof({ weight: 4, arbitrary: routed }, { weight: 1, arbitrary: nowhere });
}
