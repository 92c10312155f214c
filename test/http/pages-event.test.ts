import { describe, expect, it } from "vitest";
import { TICKET_COOKIE } from "../../src/pages/cookies";
import { adminPut, call, createRoom, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { joinMany } from "../helpers/queue";

/** The waiting page during a scheduled event (pre-queue and lottery, src/admission/event.ts). */

async function page(path: string, cookies: Record<string, string> = {}) {
  const cookie = Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join("; ");
  const res = await call(path, cookie ? { headers: { cookie } } : {});
  return { res, text: await res.text() };
}

function textOf(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) return "";
  const open = html.indexOf(">", start) + 1;
  const tag = /<(\w+)[^<]*$/.exec(html.slice(0, start))![1]!;
  return html
    .slice(open, html.indexOf(`</${tag}>`, open))
    .replace(/<[^>]+>/g, "")
    .trim();
}

describe("the waiting page during an event", () => {
  it("during an event's pre-queue: no place yet, the time of the draw instead, no progress bar", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const iso = (ms: number) => new Date(ms).toISOString();
    const drawAt = testClock.now() + 60_000;
    expect((await adminPut(room, { event: { prequeue_start: iso(testClock.now() + 1_000), event_start: iso(drawAt) } })).status).toBe(200);
    const before = await page(`/rooms/${room}?lang=en`);
    expect(textOf(before.text, "event")).toMatch(/^The pre-queue opens on .+; the draw is on .+\.$/);
    testClock.advance(2_000);
    await tick(room, 0);
    const [j] = await joinMany(room, 1);
    expect((await poll(room, j!.ticket)).body).toMatchObject({ status: "waiting", position: null, lottery_at: iso(drawAt) });
    const { text } = await page(`/rooms/${room}?lang=en`, { [TICKET_COOKIE]: j!.ticket });
    expect(textOf(text, "status-heading")).toBe("You are in the pre-queue");
    expect(textOf(text, "prequeue")).toContain("a draw places everyone who arrived before it in the line, at random");
    expect(text).not.toContain("progress-bar");
    expect(text).toMatch(/<noscript><meta http-equiv="refresh" content="\d+"><\/noscript>/);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
