/**
 * The one shape of an outcome that can be refused, across pure modules and Durable Object RPC alike: a
 * value, or the reason it was refused (a string union the caller maps to an HTTP error in one place).
 * Plain data, so it crosses RPC unchanged, and a tagged union, so `if (!r.ok)` narrows it.
 */
export type Result<T, R extends string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const refuse = <R extends string>(reason: R): { readonly ok: false; readonly reason: R } => ({ ok: false, reason });
