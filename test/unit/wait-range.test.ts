import { describe, expect, it } from "vitest";
import { formatWaitRange, negotiateLang } from "../../src/pages/i18n";
import { waitRange } from "../../src/pages/wait-range";

describe("the wait shown on the waiting page", () => {
  it("is a range from 0.75× to 1.5× the estimate, rounded outwards to friendly units", () => {
    const shown = (s: number | null, lang: "fr" | "en" = "en") => formatWaitRange(lang, waitRange(s));
    expect(shown(null)).toBe("unknown for now (admissions are paused)");
    expect(shown(null, "fr")).toBe("inconnue pour l'instant (les admissions sont en pause)");
    expect(shown(0)).toBe("less than a minute");
    expect(shown(30)).toBe("less than a minute");
    expect(shown(60)).toBe("less than 2 minutes");
    expect(shown(120)).toBe("between 1 and 3 minutes");
    expect(shown(600)).toBe("between 7 and 15 minutes");
    expect(shown(600, "fr")).toBe("entre 7 et 15 minutes");
    expect(shown(3600)).toBe("between 45 minutes and 1 h 30 min");
    expect(shown(3600, "fr")).toBe("entre 45 minutes et 1 h 30");
    expect(shown(4 * 3600)).toBe("between 3 and 6 hours");
    expect(shown(4 * 3600, "fr")).toBe("entre 3 et 6 heures");
    expect(shown(20 * 3600)).toBe("between 15 and 30 hours");
  });

  it("never narrows the estimate: the low end is at most 0.75×, the high end at least 1.5×", () => {
    for (let s = 1; s < 200_000; s = Math.ceil(s * 1.07)) {
      const r = waitRange(s);
      if (r.kind === "between") {
        expect(r.low).toBeLessThanOrEqual(0.75 * s);
        expect(r.high).toBeGreaterThanOrEqual(1.5 * s);
        expect(r.low).toBeLessThan(r.high);
      } else {
        expect(r.kind).toBe("under");
        if (r.kind === "under") expect(r.seconds).toBeGreaterThanOrEqual(1.5 * s);
      }
    }
  });
});

describe("the waiting page's language", () => {
  it("is negotiated from Accept-Language by q-value, ?lang= first, French otherwise", () => {
    expect(negotiateLang(null, "en-US,en;q=0.9")).toBe("en");
    expect(negotiateLang(null, "fr-CA")).toBe("fr");
    expect(negotiateLang(null, "de;q=1, en;q=0.8, fr;q=0.9")).toBe("fr");
    expect(negotiateLang(null, "de, *;q=0.1")).toBe("fr");
    expect(negotiateLang(null, "EN")).toBe("en");
    expect(negotiateLang(null, "en;q=0")).toBe("fr");
    expect(negotiateLang(null, ";;,garbage;q=x")).toBe("fr");
    expect(negotiateLang("en", "fr")).toBe("en");
    expect(negotiateLang("xx", "en")).toBe("en");
    expect(negotiateLang(undefined, undefined)).toBe("fr");
  });
});
