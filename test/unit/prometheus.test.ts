import { describe, expect, it } from "vitest";
import { escapeHelp, escapeLabelValue, formatExposition, formatValue, type MetricFamily } from "../../src/metrics/prometheus";
import { ExpositionError, parseExposition, sampleValue } from "../helpers/prometheus";

describe("Prometheus text format 0.0.4", () => {
  it("escapes label values: backslash, double quote, line feed (and nothing else)", () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(escapeHelp('line 1\nback\\slash "quoted"')).toBe('line 1\\nback\\\\slash "quoted"');
  });

  it("writes special values the way Go's ParseFloat reads them", () => {
    expect([NaN, Infinity, -Infinity, -0, 0, 1.5, 1e21, -3].map(formatValue)).toEqual([
      "NaN",
      "+Inf",
      "-Inf",
      "0",
      "0",
      "1.5",
      "1e+21",
      "-3",
    ]);
  });

  it("writes HELP, TYPE and samples per family, ending with a line feed", () => {
    const text = formatExposition([
      {
        name: "x_total",
        help: "X.",
        type: "counter",
        samples: [
          { labels: { room: "a" }, value: 3 },
          { labels: { room: "b" }, value: 0 },
        ],
      },
      { name: "y", help: "Y.", type: "gauge", samples: [{ value: 0.25 }] },
    ]);
    expect(text).toBe(
      '# HELP x_total X.\n# TYPE x_total counter\nx_total{room="a"} 3\nx_total{room="b"} 0\n# HELP y Y.\n# TYPE y gauge\ny 0.25\n',
    );
  });

  it("round-trips awkward label values and help text through a strict parser", () => {
    const nasty = 'quote " backslash \\ newline \n unicode é } , =';
    const families = parseExposition(
      formatExposition([
        { name: "odd", help: "help with \\ and\nnewline", type: "gauge", samples: [{ labels: { v: nasty, w: "" }, value: NaN }] },
      ]),
    );
    const odd = families.get("odd")!;
    expect(odd.help).toBe("help with \\ and\nnewline");
    expect(odd.samples[0]!.labels).toEqual({ v: nasty, w: "" });
    expect(Number.isNaN(odd.samples[0]!.value)).toBe(true);
  });

  it("writes histograms with cumulative buckets, +Inf, _sum and _count", () => {
    const h: MetricFamily = {
      name: "lat_seconds",
      help: "Latency.",
      type: "histogram",
      series: [
        {
          labels: { route: "/a" },
          buckets: [
            { le: 0.1, count: 2 },
            { le: 1, count: 5 },
          ],
          count: 6,
          sum: 3.5,
        },
      ],
    };
    const text = formatExposition([h]);
    expect(text).toContain('lat_seconds_bucket{route="/a",le="0.1"} 2\n');
    expect(text).toContain('lat_seconds_bucket{route="/a",le="+Inf"} 6\n');
    expect(text).toContain('lat_seconds_sum{route="/a"} 3.5\nlat_seconds_count{route="/a"} 6\n');
    const parsed = parseExposition(text);
    expect(sampleValue(parsed, "lat_seconds_bucket", { le: "1" })).toBe(5);
  });

  it("refuses invalid names, duplicate families and labels, and unordered buckets", () => {
    const g = (name: string, labels: Record<string, string> = {}): MetricFamily => ({
      name,
      help: "h",
      type: "gauge",
      samples: [{ labels, value: 1 }],
    });
    expect(() => formatExposition([g("1bad")])).toThrow(/metric name/);
    expect(() => formatExposition([g("has-dash")])).toThrow(/metric name/);
    expect(() => formatExposition([g("ok", { "bad-label": "x" })])).toThrow(/label name/);
    expect(() => formatExposition([g("ok", { __reserved: "x" })])).toThrow(/label name/);
    expect(() => formatExposition([g("ok"), g("ok")])).toThrow(/twice/);
    expect(() =>
      formatExposition([
        {
          name: "h",
          help: "h",
          type: "histogram",
          series: [
            {
              buckets: [
                { le: 1, count: 1 },
                { le: 0.5, count: 1 },
              ],
              count: 1,
              sum: 1,
            },
          ],
        },
      ]),
    ).toThrow(/ascending/);
  });

  it("an empty exposition is empty", () => {
    expect(formatExposition([])).toBe("");
  });
});

describe("the strict test parser rejects what a scraper would", () => {
  const bad: [string, string][] = [
    ["sample without TYPE", "x 1\n"],
    ["no final line feed", "# TYPE x gauge\nx 1"],
    ["non-numeric value", "# TYPE x gauge\nx one\n"],
    ["bad escape", '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ["family split in two", '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="b"} 2\n'],
    ["duplicate series", "# TYPE x gauge\nx 1\nx 2\n"],
    ["negative counter", "# TYPE x_total counter\nx_total -1\n"],
    ["histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ["empty line", "# TYPE x gauge\n\nx 1\n"],
  ];
  for (const [name, text] of bad) it(name, () => expect(() => parseExposition(text)).toThrow(ExpositionError));
});
