import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { faultsOn, injectFault, type FaultPoint } from "../faults/points";
import { ApiError } from "../http/problem";
import { withDeadline } from "../lib/deadline";
import { logger } from "../log/logger";

/**
 * Every Durable Object call the Worker makes gets a deadline, and a call that rejects or runs past it
 * becomes a retryable 503 (`temporarily_unavailable`, Retry-After) instead of an unhandled error (a
 * bare 500) or a request that hangs for as long as the object does.
 *
 * Why at the bindings and not at each call site: objects fail for reasons outside our code (an object
 * reset, overloaded, moved, a network blip), and the answer is the same whatever was asked of them.
 * src/index.ts wraps the env once; every route, present or future, then calls objects through here.
 * Handlers that want something better than a 503 (the snapshot cache serves a stale snapshot) catch
 * the ApiError like any other error.
 *
 * What is not retried here: a call may have done its work before its answer was lost, and only the
 * client knows whether repeating it is safe (joins are idempotent per person; a token request redeems a
 * single-use code). The client SDK retries 503s with backoff.
 *
 * The guard is also where the edge's Durable Object fault points are (src/faults): injected at the
 * call, so the failure looks to the Worker exactly like an object that did not answer.
 */
/** What a refused client is told to wait: a reset object is usually back within a second or two. */
export const DURABLE_RETRY_AFTER_SECONDS = 2;

/** Fault point per binding (every method), or per binding and method. */
const FAULT_POINTS: Record<string, FaultPoint | Record<string, FaultPoint>> = {
  QUEUE_SHARD: "shard.join",
  REPLAY_GUARD: "replay.claim",
  ISSUANCE_SESSIONS: "sessions.call",
  ISSUANCE_LEDGER: { record: "ledger.write" },
  ROOM_COORDINATOR: { snapshot: "coordinator.snapshot", startSession: "coordinator.session", endSession: "coordinator.session" },
};

function faultPointOf(binding: string, method: string): FaultPoint | undefined {
  const p = FAULT_POINTS[binding];
  return typeof p === "string" ? p : p?.[method];
}

/** Stub members that are not RPC methods: passed through untouched. */
const NOT_RPC = new Set(["id", "name", "fetch", "connect", "dup", "then"]);

const guarded = new WeakMap<Env, Env>();

/** `env` with every Durable Object namespace binding guarded (memoised per env object). */
export function guardBindings(env: Env): Env {
  let g = guarded.get(env);
  if (g) return g;
  // Read at each call, not here: this runs before the app, where a bad DURABLE_CALL_TIMEOUT_MS could
  // not yet become a 503 not-configured (the app validates every setting before any handler).
  const timeoutMs = () => settingsOf(env).durableCallTimeoutMs;
  const copy: Record<string, unknown> = { ...env };
  for (const [name, value] of Object.entries(env)) {
    if (isNamespace(value)) copy[name] = guardNamespace(value, name, timeoutMs);
  }
  g = copy as unknown as Env;
  guarded.set(env, g);
  return g;
}

function isNamespace(value: unknown): value is DurableObjectNamespace {
  const v = value as { idFromName?: unknown; get?: unknown } | null;
  return typeof v === "object" && v !== null && typeof v.idFromName === "function" && typeof v.get === "function";
}

function guardNamespace(ns: DurableObjectNamespace, binding: string, timeoutMs: () => number): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => guardStub(Reflect.apply(value, target, args) as object, binding, timeoutMs);
      }
      return bound(value as AnyFunction, target);
    },
  });
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * `fn` called on `target`, through Reflect.apply: an RPC stub's members answer every property name
 * with another remote path, so `fn.apply` or `fn.bind` would be sent to the object as calls.
 */
function bound(fn: AnyFunction, target: object): (...args: unknown[]) => unknown {
  return (...args) => Reflect.apply(fn, target, args);
}

function guardStub(stub: object, binding: string, timeoutMs: () => number): object {
  return new Proxy(stub, {
    get(target, prop) {
      if (typeof prop !== "string" || NOT_RPC.has(prop)) {
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? bound(value as AnyFunction, target) : value;
      }
      return (...args: unknown[]) =>
        guardedCall(
          binding,
          prop,
          timeoutMs(),
          () => Reflect.apply(Reflect.get(target, prop) as AnyFunction, target, args) as PromiseLike<unknown>,
        );
    },
  });
}

async function guardedCall(binding: string, method: string, timeoutMs: number, run: () => PromiseLike<unknown>): Promise<unknown> {
  const started = Date.now();
  const point = faultsOn ? faultPointOf(binding, method) : undefined;
  // An injected delay runs inside the deadline, like an object that is slow to answer (and, like one,
  // still does its work after the caller stopped waiting).
  const call = (async () => {
    if (point) await injectFault(point);
    return run();
  })();
  try {
    return await withDeadline(call, timeoutMs, `${binding}.${method}`);
  } catch (error) {
    logger.warn("durable_call_failed", {
      method: `${binding}.${method}`,
      duration_ms: Date.now() - started,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw new ApiError("temporarily_unavailable", "part of the service's state could not be reached in time; retry shortly", {
      headers: { "retry-after": String(DURABLE_RETRY_AFTER_SECONDS) },
    });
  }
}
