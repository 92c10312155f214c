/**
 * The operator dashboard's script (bundled by tools/build-pages.mjs, served as /static/dashboard.js;
 * the dashboard's CSP allows scripts from this origin only, never inline). No framework. It polls the
 * admin API every POLL_MS with the session cookie, keeps a rolling history in memory and draws it as
 * inline SVG sparklines, each with a text summary for screen readers. Every control is a call to the
 * same admin API the operators' scripts use; a refusal is shown as the API's problem document (title,
 * detail, the validation errors), never swallowed.
 *
 * Every request carries `X-Antichambre-Admin: 1`: the server demands it on cookie-authenticated changes
 * (CSRF; see src/http/admin-auth.ts).
 *
 * The API's answers are typed loosely on purpose (every member optional or nullable): the script shows
 * whatever the room reports and must not break on a member an older or newer server leaves out.
 */

const POLL_MS = 3000;
const HISTORY = 120;

type Num = number | null | undefined;

interface OutflowState {
  mode?: string;
  rate_per_minute?: Num;
  floor?: Num;
  ceiling?: Num;
  latency_target_ms?: Num;
  last_decision?: unknown;
}

interface OutflowConfig {
  mode?: string;
  floor_per_minute?: Num;
  ceiling_per_minute?: Num;
  latency_target_ms?: Num;
}

interface RoomConfig {
  paused?: boolean;
  new_users_per_minute?: Num;
  total_active_users?: Num;
  queueing_method?: string;
  outflow?: OutflowConfig | null;
  event?: Record<string, unknown> | null;
}

interface Lottery {
  commitment?: unknown;
  seed?: unknown;
  revealed_at?: unknown;
  entrants?: { total?: Num } | null;
}

interface Shard {
  shard: number;
  tickets: Num;
  admitted: Num;
  waiting: number;
}

interface RoomStats {
  config?: RoomConfig;
  effective?: { new_users_per_minute?: Num; total_active_users?: Num; queueing_method?: string };
  waiting: number;
  active: Num;
  sessions_open: Num;
  admitted_total: Num;
  admitted_last_minute: Num;
  oldest_waiting_age_seconds: number | null;
  observed_admissions_per_second: number | null;
  outflow?: OutflowState | null;
  backend?: { samples: number; latency_ms: Num; error_rate: number | null } | null;
  shards?: Shard[];
  last_tick_error?: string | null;
  event?: { phase?: string; lottery?: Lottery | null } | null;
  lottery?: Lottery | null;
}

interface RegisterMetrics {
  reads: number;
  errors: number;
  busy: number;
  latency_ms?: { ewma: Num } | null;
}

interface Sample {
  t: number;
  waiting: Num;
  rate: Num;
  limit: Num;
  target: Num;
  active: Num;
  cap: Num;
  latency: Num;
  errorPct: Num;
  drain: Num;
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: { path?: string; message?: string }[];
}

interface ApiResult {
  ok: boolean;
  status: number;
  data: unknown;
}

interface Series {
  values: Num[];
  cls: string;
}

interface Reference {
  value: Num;
  cls: string;
}

declare global {
  interface Window {
    /** For a console (and the browser tests): refresh now, the history drawn, the last room answer. */
    antichambreDashboard: { refresh: () => Promise<void>; history: () => Sample[]; last: () => RoomStats | null };
  }
}

let room = document.body.getAttribute("data-room") || "permis";
let history: Sample[] = [];
let last: RoomStats | null = null;
let lastRegister: RegisterMetrics | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
const nf = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

/** The element the dashboard's own markup (dashboard-page.ts) always has. */
function $<T extends Element = HTMLElement>(selector: string): T {
  return document.querySelector<T>(selector)!;
}
const field = (name: string) => document.querySelector<HTMLElement>(`[data-field="${name}"]`);
function setText(name: string, text: string): void {
  const node = field(name);
  if (node) node.textContent = text;
}
const finite = (v: Num): v is number => typeof v === "number" && Number.isFinite(v);
const fmt = (n: Num): string => (finite(n) ? nf.format(n) : "–");

function duration(value: Num): string {
  if (!finite(value)) return "–";
  const seconds = Math.max(0, Math.round(value));
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  if (m < 60) return `${m} min${s ? ` ${s} s` : ""}`;
  const h = Math.floor(m / 60);
  return `${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

// ---- the admin API ----------------------------------------------------------------------------------

async function api(method: string, path: string, payload?: unknown): Promise<ApiResult> {
  const headers: Record<string, string> = { "x-antichambre-admin": "1", accept: "application/json" };
  const init: RequestInit = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    const detail = String((err instanceof Error && err.message) || err);
    return { ok: false, status: 0, data: { title: "Network error", detail } };
  }
  const type = res.headers.get("content-type") || "";
  const data: unknown = type.includes("json") ? await res.json().catch(() => null) : await res.text();
  return { ok: res.ok, status: res.status, data };
}

/** A refusal as text: the problem document's title, detail and validation errors. */
function problemText(r: ApiResult): string {
  const status = r.status ? `${r.status} ` : "";
  if (r.data && typeof r.data === "object") {
    const d = r.data as Problem;
    let text = status + (d.title || "Error") + (d.detail ? `: ${d.detail}` : "");
    if (Array.isArray(d.errors) && d.errors.length) {
      text += ` (${d.errors.map((e) => (e.path ? `${e.path}: ` : "") + e.message).join("; ")})`;
    }
    return text;
  }
  return status + (typeof r.data === "string" && r.data ? r.data.slice(0, 300) : "request failed");
}

const roomPath = (suffix = "") => `/v1/admin/rooms/${encodeURIComponent(room)}${suffix}`;

// ---- charts -------------------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function el(name: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** Lines for each series (gaps where a value is missing) and dashed reference levels, scaled to fit. */
function sparkline(svg: SVGSVGElement, series: Series[], refs: Reference[]): void {
  const W = 240;
  const H = 60;
  const P = 3;
  const all: number[] = [];
  for (const s of series) for (const v of s.values) if (finite(v)) all.push(v);
  for (const r of refs) if (finite(r.value)) all.push(r.value);
  let max = all.length ? Math.max(...all) : 1;
  if (max <= 0) max = 1;
  // Points are spaced as if the window held at least 30 samples: a fresh history grows from the right
  // edge instead of one stretched segment, and settles into the full window after HISTORY samples.
  const n = Math.max(30, ...series.map((s) => s.values.length));
  const x = (i: number, len: number) => W - P - (len - 1 - i) * ((W - 2 * P) / (n - 1));
  const y = (v: number) => H - P - (v / max) * (H - 2 * P);
  const title = svg.querySelector("title");
  const nodes: Element[] = [el("line", { x1: 0, y1: H - P, x2: W, y2: H - P, class: "axis" })];
  for (const r of refs) {
    if (!finite(r.value)) continue;
    nodes.push(el("line", { x1: 0, x2: W, y1: y(r.value).toFixed(1), y2: y(r.value).toFixed(1), class: r.cls }));
  }
  for (const s of series) {
    let points: string[] = [];
    const flush = () => {
      if (points.length > 1) nodes.push(el("polyline", { points: points.join(" "), class: s.cls }));
      else if (points.length === 1) {
        const [cx = "", cy = ""] = points[0]!.split(",");
        nodes.push(el("circle", { cx, cy, r: 2, class: s.cls }));
      }
      points = [];
    };
    s.values.forEach((v, i) => {
      if (!finite(v)) return flush();
      points.push(`${x(i, s.values.length).toFixed(1)},${y(v).toFixed(1)}`);
    });
    flush();
  }
  svg.replaceChildren(...(title ? [title, ...nodes] : nodes));
}

/** "from 0 to 120, now 118 (last 3 min)": what a screen reader gets instead of the line. */
function trend(values: Num[], unit: string, format: (v: Num) => string): string {
  const present = values.filter(finite);
  if (!present.length) return "no data yet";
  const span = history.length > 1 ? duration((history[history.length - 1]!.t - history[0]!.t) / 1000) : "just now";
  return (
    `now ${format(present[present.length - 1])}${unit}; lowest ${format(Math.min(...present))}${unit}, ` +
    `highest ${format(Math.max(...present))}${unit} over the last ${span}`
  );
}

function chart(name: string, series: [Series, ...Series[]], refs: Reference[], unit: string, format: (v: Num) => string): void {
  const svg = document.querySelector<SVGSVGElement>(`[data-chart="${name}"]`);
  if (!svg) return;
  sparkline(svg, series, refs);
  const text = trend(series[0].values, unit, format);
  const t = svg.querySelector("title");
  if (t) t.textContent = `${svg.getAttribute("data-label")}: ${text}`;
  const p = document.querySelector(`[data-trend="${name}"]`);
  if (p) p.textContent = text;
}

function shardBars(shards: Shard[]): void {
  const svg = document.querySelector<SVGSVGElement>('[data-chart="shards"]');
  const tbody = document.querySelector("#shard-rows");
  if (!svg || !tbody) return;
  const W = 240;
  const H = 110;
  const P = 4;
  const max = Math.max(1, ...shards.map((s) => s.waiting));
  const w = (W - 2 * P) / Math.max(1, shards.length);
  const title = svg.querySelector("title");
  const nodes: Element[] = [el("line", { x1: 0, y1: H - P, x2: W, y2: H - P, class: "axis" })];
  shards.forEach((s, i) => {
    const h = (Math.max(0, s.waiting) / max) * (H - 2 * P);
    const bar = el("rect", {
      x: (P + i * w + 1).toFixed(1),
      y: (H - P - h).toFixed(1),
      width: Math.max(1, w - 2).toFixed(1),
      height: h.toFixed(1),
    });
    const tip = el("title", {});
    tip.textContent = `shard ${s.shard}: ${s.waiting} waiting`;
    bar.appendChild(tip);
    nodes.push(bar);
  });
  svg.replaceChildren(...(title ? [title, ...nodes] : nodes));
  if (title) title.textContent = `Waiting per shard: ${shards.map((s) => `shard ${s.shard} ${s.waiting}`).join(", ")}`;
  const rows = shards.map((s) => {
    const tr = document.createElement("tr");
    [String(s.shard), fmt(s.tickets), fmt(s.admitted), fmt(s.waiting)].forEach((v, i) => {
      const cell = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) cell.setAttribute("scope", "row");
      cell.textContent = v;
      tr.appendChild(cell);
    });
    return tr;
  });
  tbody.replaceChildren(...rows);
}

// ---- one refresh ----------------------------------------------------------------------------------------

/** The coordinator's aggregate when it has samples (global); else this isolate's register metrics. */
function backendOf(stats: RoomStats, register: RegisterMetrics | null): { latency: Num; errorPct: Num; source: string } {
  if (stats.backend && typeof stats.backend === "object" && stats.backend.samples > 0) {
    return {
      latency: stats.backend.latency_ms,
      errorPct: stats.backend.error_rate === null ? null : stats.backend.error_rate * 100,
      source: `coordinator, ${fmt(stats.backend.samples)} samples`,
    };
  }
  if (!register) return { latency: null, errorPct: null, source: "register metrics unavailable" };
  let errorPct: Num = null;
  if (lastRegister) {
    const calls = register.reads + register.errors + register.busy - (lastRegister.reads + lastRegister.errors + lastRegister.busy);
    const bad = register.errors + register.busy - (lastRegister.errors + lastRegister.busy);
    if (calls > 0 && bad >= 0) errorPct = (bad / calls) * 100;
    else if (calls === 0) errorPct = 0;
  }
  return {
    latency: register.latency_ms ? register.latency_ms.ewma : null,
    errorPct,
    source: `this edge isolate: ${fmt(register.reads)} reads, ${fmt(register.errors)} errors, ${fmt(register.busy)} refused busy`,
  };
}

function render(stats: RoomStats, register: RegisterMetrics | null): void {
  const cfg: RoomConfig = stats.config || {};
  const aps = stats.observed_admissions_per_second;
  const ratePerMin = aps === null ? null : aps * 60;
  const outflow = stats.outflow && typeof stats.outflow === "object" ? stats.outflow : null;
  const adaptive = outflow && outflow.mode === "adaptive" ? outflow : null;
  const target = adaptive ? adaptive.rate_per_minute : null;
  // What applies now (an event's settings replace the room's own while it runs).
  const eff = stats.effective || {
    new_users_per_minute: cfg.new_users_per_minute,
    total_active_users: cfg.total_active_users,
    queueing_method: cfg.queueing_method,
  };
  const backend = backendOf(stats, register);
  const drain = stats.waiting === 0 ? 0 : cfg.paused || !aps ? null : stats.waiting / aps;
  history.push({
    t: Date.now(),
    waiting: stats.waiting,
    rate: ratePerMin,
    limit: eff.new_users_per_minute,
    target,
    active: stats.active,
    cap: eff.total_active_users,
    latency: backend.latency,
    errorPct: backend.errorPct,
    drain,
  });
  while (history.length > HISTORY) history.shift();
  const col = (k: Exclude<keyof Sample, "t">) => history.map((h) => h[k]);

  setText("waiting", fmt(stats.waiting));
  const oldest = stats.oldest_waiting_age_seconds;
  setText("oldest", oldest === null ? "nobody waiting" : `oldest place ${duration(oldest)} old`);
  chart("waiting", [{ values: col("waiting"), cls: "series" }], [], "", fmt);

  setText("rate", ratePerMin === null ? "–" : `${fmt(ratePerMin)}/min`);
  setText(
    "rate-sub",
    `limit ${fmt(eff.new_users_per_minute)}/min` +
      (eff.new_users_per_minute !== cfg.new_users_per_minute ? ` (configured ${fmt(cfg.new_users_per_minute)})` : "") +
      (adaptive
        ? ` · adaptive target ${fmt(adaptive.rate_per_minute)}/min (floor ${fmt(adaptive.floor)}, ceiling ${fmt(adaptive.ceiling)})`
        : "") +
      ` · ${fmt(stats.admitted_last_minute)} admitted in the last minute`,
  );
  chart(
    "rate",
    [
      { values: col("rate"), cls: "series" },
      { values: col("target"), cls: "target" },
    ],
    [{ value: eff.new_users_per_minute, cls: "limit" }],
    "/min",
    fmt,
  );

  setText("active", `${fmt(stats.active)} of ${fmt(eff.total_active_users)}`);
  setText("active-sub", `${fmt(stats.sessions_open)} sessions open · ${fmt(stats.admitted_total)} admitted in total`);
  chart("active", [{ values: col("active"), cls: "series" }], [{ value: eff.total_active_users, cls: "limit" }], "", fmt);

  setText("latency", backend.latency === null || backend.latency === undefined ? "–" : `${fmt(backend.latency)} ms`);
  setText(
    "latency-sub",
    `errors ${backend.errorPct === null ? "–" : `${fmt(backend.errorPct)} %`}` +
      (adaptive ? ` · latency target ${fmt(adaptive.latency_target_ms)} ms` : "") +
      ` · ${backend.source}`,
  );
  chart(
    "latency",
    [{ values: col("latency"), cls: "series" }],
    adaptive ? [{ value: adaptive.latency_target_ms, cls: "limit" }] : [],
    " ms",
    fmt,
  );

  setText("drain", stats.waiting === 0 ? "empty" : drain === null ? "not draining" : `≈ ${duration(drain)}`);
  setText(
    "drain-sub",
    cfg.paused ? "paused: nobody is admitted" : aps ? "waiting ÷ observed rate" : "no admissions observed in the last minute",
  );
  chart("drain", [{ values: col("drain"), cls: "series" }], [], "", duration);

  shardBars(stats.shards || []);

  const state = $("#state-badge");
  state.textContent = cfg.paused ? "paused" : "admitting";
  state.className = `badge ${cfg.paused ? "paused" : "running"}`;
  setText(
    "method",
    eff.queueing_method + (eff.queueing_method !== cfg.queueing_method ? ` (event; configured ${cfg.queueing_method})` : ""),
  );
  setText("tick-error", stats.last_tick_error ? stats.last_tick_error : "none");
  field("tick-error")!.className = stats.last_tick_error ? "bad" : "";
  const phase = stats.event && stats.event.phase ? `phase ${stats.event.phase}` : null;
  setText("event", cfg.event ? describe(cfg.event) + (phase ? ` · ${phase}` : "") : "none scheduled");
  const lottery = (stats.event && stats.event.lottery) || stats.lottery || null;
  setText(
    "lottery",
    lottery
      ? describe({
          commitment: lottery.commitment,
          seed: lottery.seed || "(secret until revealed)",
          revealed_at: lottery.revealed_at,
          entrants: lottery.entrants ? lottery.entrants.total : null,
        })
      : "none",
  );
  setText(
    "outflow",
    outflow ? `${outflow.mode}: ${fmt(outflow.rate_per_minute)}/min${outflowDetail(adaptive)}` : "fixed (configured limit)",
  );
  const pause = $("#pause-toggle");
  pause.textContent = cfg.paused ? "Resume admission" : "Pause admission";
  pause.setAttribute("data-paused", cfg.paused ? "true" : "false");
  fillForms(cfg);
  $("#updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
}

function outflowDetail(adaptive: OutflowState | null): string {
  if (!adaptive) return " (pinned)";
  const decision = adaptive.last_decision;
  return (
    ` between ${fmt(adaptive.floor)} and ${fmt(adaptive.ceiling)}, latency target ${fmt(adaptive.latency_target_ms)} ms` +
    (decision ? ` · last decision: ${typeof decision === "object" ? describe(decision as Record<string, unknown>) : String(decision)}` : "")
  );
}

function describe(obj: Record<string, unknown>): string {
  return Object.keys(obj)
    .filter((k) => obj[k] !== null && obj[k] !== undefined)
    .map((k) => {
      const v = obj[k];
      return `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`;
    })
    .join(" · ");
}

/**
 * Keep the controls showing the room's configuration, except a field the operator is editing (focused,
 * or changed and not yet applied): a refresh must never overwrite what someone is typing.
 */
function put(selector: string, value: unknown): void {
  const input = $<HTMLInputElement | HTMLSelectElement>(selector);
  if (input.getAttribute("data-dirty") === "1" || document.activeElement === input) return;
  input.value = value === undefined || value === null ? "" : String(value);
}

function clean(scope: ParentNode): void {
  for (const node of scope.querySelectorAll("[data-dirty]")) node.removeAttribute("data-dirty");
}

function fillForms(cfg: RoomConfig): void {
  put("#new_users_per_minute", cfg.new_users_per_minute);
  put("#total_active_users", cfg.total_active_users);
  put("#queueing_method", cfg.queueing_method);
  const o = cfg.outflow;
  $("#outflow-form").hidden = !o;
  if (o) {
    put("#outflow_mode", o.mode);
    put("#outflow_floor", o.floor_per_minute);
    put("#outflow_ceiling", o.ceiling_per_minute);
    put("#outflow_latency", o.latency_target_ms);
  }
}

document.addEventListener("input", (e) => {
  if (e.target instanceof Element && e.target.closest(".controls")) e.target.setAttribute("data-dirty", "1");
});

async function refresh(): Promise<void> {
  clearTimeout(timer);
  const asked = room;
  try {
    const [stats, register] = await Promise.all([api("GET", roomPath()), api("GET", "/v1/admin/register")]);
    if (asked !== room) return;
    const status = $("#connection");
    if (!stats.ok) {
      status.textContent =
        stats.status === 401 ? `Your session has ended: reload the page to log in again. (${problemText(stats)})` : problemText(stats);
      status.className = "bad";
    } else {
      status.textContent = `Live: refreshing every ${POLL_MS / 1000} s`;
      status.className = "good";
      last = stats.data as RoomStats;
      render(last, register.ok ? (register.data as RegisterMetrics) : null);
      if (register.ok) lastRegister = register.data as RegisterMetrics;
    }
  } finally {
    timer = setTimeout(refresh, POLL_MS);
  }
}

// ---- controls ----------------------------------------------------------------------------------------

function report(form: HTMLFormElement, r: ApiResult, doneText: string): void {
  const out = form.querySelector(".result")!;
  if (r.ok) {
    out.textContent = doneText;
    out.className = "result done";
  } else {
    out.textContent = `Refused: ${problemText(r)}`;
    out.className = "result error";
  }
}

async function change(form: HTMLFormElement, patch: Record<string, unknown>, doneText: string): Promise<void> {
  const button = form.querySelector<HTMLButtonElement>("button[type=submit], button:not([type])");
  if (button) button.disabled = true;
  try {
    const r = await api("PUT", roomPath(), patch);
    report(form, r, doneText);
    if (r.ok) {
      clean(form);
      await refresh();
    }
  } finally {
    if (button) button.disabled = false;
  }
}

const intOf = (input: HTMLInputElement) => (input.value === "" ? undefined : Number(input.value));
const valueOf = (selector: string) => $<HTMLInputElement | HTMLSelectElement>(selector).value;

/** A datetime-local value (the operator's local time) as an ISO-8601 instant in UTC. */
function isoOf(input: HTMLInputElement): string | undefined {
  if (!input.value) return undefined;
  const d = new Date(input.value);
  return Number.isNaN(d.getTime()) ? input.value : d.toISOString();
}

/** Runs `handle` on the form's submit instead of the browser's own navigation. */
function onSubmit(selector: string, handle: (form: HTMLFormElement) => void): void {
  const form = $<HTMLFormElement>(selector);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    handle(form);
  });
}

onSubmit("#pause-form", (form) => {
  const paused = $("#pause-toggle").getAttribute("data-paused") === "true";
  void change(form, { paused: !paused }, paused ? "Admission resumed." : "Admission paused: nobody loses their place.");
});

onSubmit("#limits-form", (form) => {
  const patch: Record<string, number> = {};
  const rate = intOf($("#new_users_per_minute"));
  const cap = intOf($("#total_active_users"));
  if (rate !== undefined) patch.new_users_per_minute = rate;
  if (cap !== undefined) patch.total_active_users = cap;
  void change(form, patch, "Limits applied.");
});

onSubmit("#method-form", (form) => {
  void change(form, { queueing_method: valueOf("#queueing_method") }, "Queueing method applied.");
});

onSubmit("#outflow-form", (form) => {
  const o: Record<string, unknown> = { mode: valueOf("#outflow_mode") };
  const floor = intOf($("#outflow_floor"));
  const ceiling = intOf($("#outflow_ceiling"));
  const latency = intOf($("#outflow_latency"));
  if (floor !== undefined) o.floor_per_minute = floor;
  if (ceiling !== undefined) o.ceiling_per_minute = ceiling;
  if (latency !== undefined) o.latency_target_ms = latency;
  void change(form, { outflow: o }, o.mode === "adaptive" ? "Adaptive outflow on." : "Rate pinned to the configured limit.");
});

onSubmit("#event-form", (form) => {
  const ev: Record<string, unknown> = { prequeue_start: isoOf($("#prequeue_start")), event_start: isoOf($("#event_start")) };
  const end = isoOf($("#event_end"));
  if (end) ev.event_end = end;
  const method = valueOf("#event_method");
  if (method) ev.queueing_method = method;
  const rate = intOf($("#event_rate"));
  if (rate !== undefined) ev.new_users_per_minute = rate;
  const cap = intOf($("#event_cap"));
  if (cap !== undefined) ev.total_active_users = cap;
  void change(form, { event: ev }, "Event scheduled.");
});

onSubmit("#lottery-form", (form) => {
  void api("POST", roomPath("/lottery/reveal")).then((r) => {
    report(form, r, `Revealed: ${r.data && typeof r.data === "object" ? describe(r.data as Record<string, unknown>) : String(r.data)}`);
    if (r.ok) void refresh();
  });
});

onSubmit("#room-form", () => {
  const next = valueOf("#room").trim();
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(next)) {
    $("#connection").textContent = "Room names are 1-40 characters of a-z, 0-9 and '-'.";
    return;
  }
  room = next;
  history = [];
  lastRegister = null;
  clean(document);
  $("#room-name").textContent = room;
  window.history.replaceState(null, "", `/admin?room=${encodeURIComponent(room)}`);
  void refresh();
});

// ---- issued credentials: suspend, reinstate, revoke, and the audit log -----------------------------------

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: { kind: "person"; pseudonym: string } | { kind: "credential"; list: string; idx: number };
  count: number;
  reason: string | null;
}

let auditNext: string | null = null;

/** Loads the newest page of the audit log (or, with `older`, the page after the last one shown). */
async function loadAudit(older = false): Promise<void> {
  const query = older && auditNext ? `?limit=20&before=${encodeURIComponent(auditNext)}` : "?limit=20";
  const r = await api("GET", `/v1/admin/audit${query}`);
  const status = $("#audit-status");
  if (!r.ok) {
    status.textContent = problemText(r);
    return;
  }
  status.textContent = "";
  const page = r.data as { entries: AuditEntry[]; next: string | null };
  const body = $("#audit-rows");
  if (!older) body.replaceChildren();
  for (const e of page.entries) {
    const row = document.createElement("tr");
    const target =
      e.target.kind === "person" ? `person ${e.target.pseudonym.slice(0, 12)}…` : `credential ${e.target.list}/${e.target.idx}`;
    for (const text of [new Date(e.at).toLocaleString(), e.actor, e.action, target, String(e.count), e.reason ?? ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    body.append(row);
  }
  auditNext = page.next;
  $("#audit-more").hidden = auditNext === null;
}

/** Submits one credential form: refuses a revocation not confirmed, reports the outcome, reloads the log. */
async function lifecycleChange(form: HTMLFormElement, prefix: string, path: string, target: Record<string, unknown>): Promise<void> {
  const action = valueOf(`#${prefix}_action`);
  if (action === "revoke" && !$<HTMLInputElement>(`#${prefix}_confirm`).checked) {
    report(form, { ok: false, status: 0, data: { title: "Not sent", detail: "tick the box: a revocation cannot be undone" } }, "");
    return;
  }
  const reason = valueOf(`#${prefix}_reason`).trim();
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const r = await api("POST", `${path}/${action}`, { ...target, ...(reason ? { reason } : {}) });
    const d = r.data as { changed?: number; unchanged?: number; revoked_kept?: number };
    report(form, r, `Done: ${d.changed ?? 0} changed, ${d.unchanged ?? 0} already so, ${d.revoked_kept ?? 0} revoked and kept.`);
    if (r.ok) {
      clean(form);
      $<HTMLInputElement>(`#${prefix}_confirm`).checked = false;
    }
    await loadAudit();
  } finally {
    if (button) button.disabled = false;
  }
}

onSubmit("#person-form", (form) => {
  const personId = valueOf("#person_id").trim();
  void lifecycleChange(form, "person", "/v1/admin/credentials/by-person", { person_id: personId }).then(() => {
    // The id is not kept on the page once used.
    $<HTMLInputElement>("#person_id").value = "";
  });
});

onSubmit("#index-form", (form) => {
  void lifecycleChange(form, "index", "/v1/admin/credentials/by-index", {
    list: valueOf("#status_list").trim(),
    idx: Number(valueOf("#status_idx")),
  });
});

$("#audit-more").addEventListener("click", () => void loadAudit(true));
void loadAudit();

window.antichambreDashboard = { refresh, history: () => history.slice(), last: () => last };
void refresh();

export {};
