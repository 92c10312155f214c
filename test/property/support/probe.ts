import { exports } from "cloudflare:workers";
import { ORIGIN } from "../../helpers/api";
import { checkAnswer, describe, type Answer, type Contract } from "./contract";
import type { RawBody } from "./hostile";
import { assertUnchanged, claimed, observe, type Observed, type RoomRef } from "./state";

/** One generated request: any method, path (already encoded), header list (duplicates kept) and body. */
export interface Spec {
  method: string;
  path: string;
  headers: [string, string][];
  body: RawBody;
}

export type Fetcher = (request: Request) => Promise<Response>;

/** The Worker as deployed: its default export, inside workerd (bindings, Durable Objects, assets binding). */
export const worker: Fetcher = (request) => exports.default.fetch(request);

/**
 * Header values as a client can put them on the wire: no NUL, CR or LF (fetch throws), and ASCII only
 * (fetch would send UTF-8 anyway, with a runtime warning per request).
 */
function wireSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, "?");
}

export function toRequest(spec: Spec): Request {
  // Redirects are answers to check, not to follow (login and logout answer 303).
  const headers = spec.headers.map(([k, v]) => [k, wireSafe(v)] as [string, string]);
  const init: RequestInit = { method: spec.method, headers, redirect: "manual" };
  // fetch refuses a body on GET and HEAD; a client that sends one anyway is cut off by the runtime first.
  if (spec.body !== null && !/^(get|head)$/i.test(spec.method)) init.body = spec.body;
  return new Request(`${ORIGIN}${spec.path}`, init);
}

export function describeSpec(spec: Spec): string {
  return describe(spec.method, spec.path, spec.headers, spec.body);
}

/** Answers seen per status and problem type, printed by `printTally` (how deep the generators reach). */
const tally = new Map<string, number>();

export function printTally(label: string): void {
  const entries = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b));
  console.log(`${label}: ${entries.map(([k, n]) => `${k}×${n}`).join(", ")}`);
  tally.clear();
}

/** Send and check invariants 1 and 2. */
export async function probe(spec: Spec, contract: Contract, fetcher: Fetcher = worker): Promise<Answer> {
  const answer = await checkAnswer(describeSpec(spec), await fetcher(toRequest(spec)), contract, spec.method);
  const kind = typeof answer.problem?.type === "string" ? ` ${answer.problem.type.replace("urn:antichambre:problem:", "")}` : "";
  const key = `${answer.status}${kind}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  return answer;
}

/**
 * Sends requests and holds each refusal to invariant 3. The state after one request is the state before
 * the next (nothing else moves: the clock is frozen), so each run costs one observation, not two. The
 * one-time values a request could have claimed differ per request: those are read before and after it.
 */
export class Watcher {
  private last: Observed | null = null;

  constructor(
    private readonly rooms: readonly RoomRef[],
    private readonly options: { shards?: boolean } = {},
  ) {}

  /**
   * `observe: false` skips invariant 3 for this request (a cheap one that reaches no state): the next
   * observed request still compares against the last observation, so a change would not go unseen.
   */
  async send(
    spec: Spec,
    contract: Contract,
    extra: { replayKeys?: readonly string[]; allowDpopJti?: boolean; fetcher?: Fetcher; observe?: boolean } = {},
  ): Promise<Answer> {
    if (extra.observe === false) return probe(spec, contract, extra.fetcher);
    const keys = extra.replayKeys ?? [];
    this.last ??= await observe(this.rooms, [], this.options);
    const before: Observed = { ...this.last, replay: await claimed(keys) };
    const answer = await probe(spec, contract, extra.fetcher);
    const after = await observe(this.rooms, keys, this.options);
    // Updated before judging: a failing run must not leave a stale baseline for the shrinker's reruns.
    this.last = { ...after, replay: {} };
    if (answer.status >= 400) assertUnchanged(describeSpec(spec), before, after, { allowDpopJti: extra.allowDpopJti ?? false });
    return answer;
  }

  /** Something legitimate changed the state on purpose: observe afresh before the next request. */
  forget(): void {
    this.last = null;
  }
}
