import { problemBody, type ProblemKind } from "../../../src/http/problem";
import { setLogSink } from "../../../src/log/logger";

/**
 * The invariants every generated request is held to:
 * 1. never a 5xx, except a deliberate 503 + Retry-After whose problem type is on DELIBERATE_503;
 * 2. every refusal is `application/problem+json` whose `status` is the HTTP status, whose `type` is one
 *    of ours (`urn:antichambre:problem:<kind>`) with that kind's own title and status, and whose status
 *    is one the endpoint's contract allows; browser pages may refuse in HTML instead (`html`);
 * 3. (state.ts) a refused request changes no state.
 * Also: nothing the Worker logs says `unhandled_error` (a bug caught by onError and turned into a 500).
 */

/** 503s that are part of a contract: a full room, an unreachable backend or state, a missing secret. */
export const DELIBERATE_503 = new Set(["room-closed", "temporarily-unavailable", "not-configured"]);

/** Kinds whose status depends on where they occur (RFC 9449: a bad DPoP proof is 400 at /token). */
const STATUS_OVERRIDES: Partial<Record<ProblemKind, readonly number[]>> = { invalid_dpop_proof: [400, 401], use_dpop_nonce: [400, 401] };

export interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  headers: Headers;
  /** The problem document of a refusal. */
  problem: Record<string, unknown> | null;
}

export class ContractBroken extends Error {}

/** Worker log lines, captured instead of printed (thousands of refusals would flood the output). */
const logLines: string[] = [];
export function captureLogs(): void {
  setLogSink((_level, line) => void logLines.push(line));
}
export function releaseLogs(): void {
  setLogSink(null);
}

export interface Contract {
  /** Statuses this endpoint may answer to the generated requests (success and refusal alike). */
  allowed: readonly number[];
  /** A browser page: its refusals may be HTML. */
  html?: boolean;
}

/** Read the response and check invariants 1 and 2 (and the log); throws ContractBroken with the evidence. */
export async function checkAnswer(what: string, res: Response, contract: Contract, method = "GET"): Promise<Answer> {
  // Everything logged since the last check: this request's lines (and those of any state reads between).
  const lines = logLines.splice(0);
  // Bytes, decoded here: res.text() warns for every PEM or form body (they are text, and checked as such).
  const text = new TextDecoder().decode(await res.arrayBuffer());
  const contentType = res.headers.get("content-type");
  const fail = (why: string): never => {
    throw new ContractBroken(
      `${why}\n  request: ${what}\n  answer: ${res.status} ${contentType ?? "(no content-type)"} ${text.slice(0, 400)}`,
    );
  };
  let problem: Record<string, unknown> | null = null;
  // A HEAD answer has the GET answer's headers and no body: only its content type can be checked.
  const head = method.toUpperCase() === "HEAD";
  if (res.status >= 400 && contentType === "application/problem+json" && head) problem = {};
  else if (res.status >= 400 && contentType === "application/problem+json") {
    try {
      problem = JSON.parse(text) as Record<string, unknown>;
    } catch {
      fail("the problem document is not JSON");
    }
    checkProblem(problem!, res.status, fail);
  }
  if (res.status >= 500) {
    // A HEAD answer has no body to read the problem type from: its GET twin is checked by other runs.
    const type = String(problem?.type ?? "").replace("urn:antichambre:problem:", "");
    const html503 = contract.html && res.status === 503 && contentType?.startsWith("text/html");
    if (res.status !== 503 || !(head || DELIBERATE_503.has(type) || html503)) fail(`a ${res.status} answer`);
    if (!head && !res.headers.get("retry-after") && type !== "not-configured") fail("a 503 without Retry-After");
  }
  if (res.status >= 400 && problem === null && !(contract.html && contentType?.startsWith("text/html"))) {
    fail("a refusal that is not application/problem+json");
  }
  if (!contract.allowed.includes(res.status))
    fail(`status ${res.status} is not one this endpoint's contract allows (${contract.allowed.join(", ")})`);
  const unhandled = lines.find((l) => l.includes('"unhandled_error"'));
  if (unhandled) fail(`the Worker logged an unhandled error: ${unhandled}`);
  return { status: res.status, contentType, text, headers: res.headers, problem };
}

function checkProblem(p: Record<string, unknown>, status: number, fail: (why: string) => never): void {
  if (p.status !== status) fail(`problem status ${String(p.status)} differs from the HTTP status`);
  const match = typeof p.type === "string" ? /^urn:antichambre:problem:([a-z]+(?:-[a-z]+)*)$/.exec(p.type) : null;
  if (!match) fail(`problem type ${String(p.type)} is not an antichambre URN`);
  if (typeof p.title !== "string" || p.title.length === 0) fail("problem without a title");
  if (typeof p.detail !== "string") fail("problem without a detail");
  const kind = match![1]!.replaceAll("-", "_") as ProblemKind;
  let expected: Record<string, unknown>;
  try {
    expected = problemBody(kind, "");
  } catch {
    return fail(`problem kind ${kind} is not in the problem table`);
  }
  if (p.title !== expected.title) fail(`problem title "${String(p.title)}" is not the title of ${kind}`);
  const statuses = STATUS_OVERRIDES[kind] ?? [expected.status];
  if (!statuses.includes(status)) fail(`${kind} answered with status ${status}`);
}

/** A short description of a request for failure messages (long values cut). */
export function describe(
  method: string,
  path: string,
  headers: readonly (readonly [string, string])[],
  body: string | Uint8Array | null,
): string {
  const cut = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…(${s.length})` : s);
  const b = body === null ? "" : typeof body === "string" ? ` body=${JSON.stringify(cut(body))}` : ` body=<${body.length} bytes>`;
  return `${method} ${cut(path)} headers=${JSON.stringify(headers.map(([k, v]) => [k, cut(v)]))}${b}`;
}

/** Refused for size before anything else was read (body, URL, headers): no other check applies then. */
export function oversized(status: number): boolean {
  return status === 413 || status === 414 || status === 431;
}
