import { expect } from "vitest";
import { adminPut, join, poll, testClock, type Joined } from "./api";

/** Join `n` devices one after another, `gapMs` apart. */
export async function joinMany(room: string, n: number, gapMs = 10): Promise<Joined[]> {
  const joined: Joined[] = [];
  for (let i = 0; i < n; i++) {
    testClock.advance(gapMs);
    const j = await join(room);
    expect(j.status).toBe(201);
    joined.push(j);
  }
  return joined;
}

export async function statuses(room: string, joined: Joined[]): Promise<string[]> {
  const out: string[] = [];
  for (const j of joined) out.push((await poll(room, j.ticket)).body.status);
  return out;
}

export async function adminPutOk(room: string, body: Record<string, unknown>): Promise<void> {
  const res = await adminPut(room, body);
  expect(res.status).toBe(200);
}
