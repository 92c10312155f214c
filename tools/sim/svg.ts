/**
 * A small line-chart renderer: SVG text, no library. Axes with "nice" ticks, light grid, labels,
 * and a legend; series are polylines (optionally dashed), so a chart of 500 points stays a few KB.
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dash?: string;
  /** Also filled down to zero, under the line. */
  readonly area?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 76, right: 24, top: 56, bottom: 52 };
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

export function lineChart(c: LineChart): string {
  const width = c.width ?? 760;
  const height = c.height ?? 380;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const all = c.series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...all.map((p) => p[1]));
  const xTicks = niceTicks(0, xMax, 8);
  const yTicks = niceTicks(0, yMax, 5);
  const xTop = xTicks[xTicks.length - 1]!;
  const yTop = yTicks[yTicks.length - 1]!;
  const x = (v: number) => MARGIN.left + (v / xTop) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / yTop) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ${FONT} font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="15" font-weight="600" fill="#111">${escape(c.title)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${f(y(t) + 4)}" text-anchor="end" fill="#444">${short(t)}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#f1f2f4"/>`);
    out.push(`<text x="${f(x(t))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" fill="#444">${short(t)}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle" fill="#222">${escape(c.xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">${escape(c.yLabel)}</text>`,
  );

  for (const s of c.series) {
    if (s.points.length === 0) continue;
    const path = s.points.map((p) => `${f(x(p[0]))},${f(y(p[1]))}`).join(" ");
    if (s.area) {
      const first = s.points[0]!;
      const last = s.points[s.points.length - 1]!;
      const base = f(y(0));
      out.push(
        `<polygon points="${f(x(first[0]))},${base} ${path} ${f(x(last[0]))},${base}" fill="${s.color}" fill-opacity="0.18" stroke="none"/>`,
      );
    }
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-linejoin="round"${dash}/>`);
  }

  // Legend, top right, one row.
  let lx = width - MARGIN.right;
  for (const s of [...c.series].reverse()) {
    const w = 28 + s.name.length * 6.6;
    lx -= w;
    const swatch = s.area
      ? `<rect x="${f(lx)}" y="32" width="18" height="10" fill="${s.color}" fill-opacity="0.3"/>`
      : `<line x1="${f(lx)}" x2="${f(lx + 18)}" y1="37" y2="37" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`;
    out.push(`${swatch}<text x="${f(lx + 23)}" y="41" fill="#333">${escape(s.name)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Ticks at 1, 2 or 5 × 10^k steps from lo, covering hi. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = lo; t < hi + step - 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

/** 1500 → "1.5k", 2000000 → "2M": axis labels stay short. */
function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function f(v: number): string {
  return v.toFixed(1);
}

function escape(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
