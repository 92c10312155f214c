/**
 * The dashboard's browser code, served as a separate asset at a content-hashed path (the CSP allows
 * scripts from this origin only, never inline). Plain ES2020, no framework, no template literals (this
 * is itself a template literal). It polls the admin API every POLL_MS with the session cookie, keeps a
 * rolling history in memory and draws it as inline SVG sparklines, each with a text summary for screen
 * readers. Every control is a call to the same admin API the operators' scripts use; a refusal is
 * shown as the API's problem document (title, detail, the validation errors), never swallowed.
 *
 * Every request carries `X-Antichambre-Admin: 1`: the server demands it on cookie-authenticated changes
 * (CSRF; see src/http/admin-auth.ts).
 */
export const DASHBOARD_JS = String.raw`"use strict";
(function () {
  var POLL_MS = 3000;
  var HISTORY = 120;
  var body = document.body;
  var room = body.getAttribute("data-room") || "permis";
  var history = [];
  var last = null;
  var lastRegister = null;
  var timer = null;
  var nf = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

  function $(selector) { return document.querySelector(selector); }
  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
  function setText(name, text) { var el = field(name); if (el) el.textContent = text; }
  function fmt(n) { return n === null || n === undefined || !isFinite(n) ? "–" : nf.format(n); }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m < 60) return m + " min" + (s ? " " + s + " s" : "");
    var h = Math.floor(m / 60);
    return h + " h" + (m % 60 ? " " + (m % 60) + " min" : "");
  }

  // ---- the admin API ----------------------------------------------------------------------------------

  function api(method, path, payload) {
    var headers = { "x-antichambre-admin": "1", accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (payload !== undefined) { headers["content-type"] = "application/json"; init.body = JSON.stringify(payload); }
    return fetch(path, init).then(function (res) {
      var type = res.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? res.json().catch(function () { return null; }) : res.text();
      return read.then(function (data) { return { ok: res.ok, status: res.status, data: data }; });
    }, function (err) {
      return { ok: false, status: 0, data: { title: "Network error", detail: String(err && err.message || err) } };
    });
  }

  /** A refusal as text: the problem document's title, detail and validation errors. */
  function problemText(r) {
    var d = r.data;
    if (d && typeof d === "object") {
      var text = (r.status ? r.status + " " : "") + (d.title || "Error") + (d.detail ? ": " + d.detail : "");
      if (Array.isArray(d.errors) && d.errors.length) {
        text += " (" + d.errors.map(function (e) { return (e.path ? e.path + ": " : "") + e.message; }).join("; ") + ")";
      }
      return text;
    }
    return (r.status ? r.status + " " : "") + (typeof d === "string" && d ? d.slice(0, 300) : "request failed");
  }

  function roomPath(suffix) { return "/v1/admin/rooms/" + encodeURIComponent(room) + (suffix || ""); }

  // ---- charts -------------------------------------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs) {
    var node = document.createElementNS(SVG, name);
    for (var k in attrs) node.setAttribute(k, String(attrs[k]));
    return node;
  }

  /** Lines for each series (gaps where a value is missing) and dashed reference levels, scaled to fit. */
  function sparkline(svg, series, refs) {
    var W = 240, H = 60, P = 3;
    var all = [];
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && isFinite(v)) all.push(v); }); });
    refs.forEach(function (r) { if (r.value !== null && isFinite(r.value)) all.push(r.value); });
    var max = all.length ? Math.max.apply(null, all) : 1;
    if (max <= 0) max = 1;
    // Points are spaced as if the window held at least 30 samples: a fresh history grows from the right
    // edge instead of one stretched segment, and settles into the full window after HISTORY samples.
    var longest = Math.max.apply(null, series.map(function (s) { return s.values.length; }));
    var n = Math.max(30, longest);
    var x = function (i, len) { return W - P - (len - 1 - i) * ((W - 2 * P) / (n - 1)); };
    var y = function (v) { return H - P - (v / max) * (H - 2 * P); };
    var title = svg.querySelector("title");
    var nodes = [el("line", { x1: 0, y1: H - P, x2: W, y2: H - P, class: "axis" })];
    refs.forEach(function (r) {
      if (r.value === null || !isFinite(r.value)) return;
      nodes.push(el("line", { x1: 0, x2: W, y1: y(r.value).toFixed(1), y2: y(r.value).toFixed(1), class: r.cls }));
    });
    series.forEach(function (s) {
      var points = [];
      var flush = function () {
        if (points.length > 1) nodes.push(el("polyline", { points: points.join(" "), class: s.cls }));
        else if (points.length === 1) { var p = points[0].split(","); nodes.push(el("circle", { cx: p[0], cy: p[1], r: 2, class: s.cls })); }
        points = [];
      };
      s.values.forEach(function (v, i) {
        if (v === null || !isFinite(v)) { flush(); return; }
        points.push(x(i, s.values.length).toFixed(1) + "," + y(v).toFixed(1));
      });
      flush();
    });
    svg.replaceChildren.apply(svg, title ? [title].concat(nodes) : nodes);
  }

  /** "from 0 to 120, now 118 (last 3 min)": what a screen reader gets instead of the line. */
  function trend(values, unit, format) {
    var present = values.filter(function (v) { return v !== null && isFinite(v); });
    if (!present.length) return "no data yet";
    var f = format || fmt;
    var span = history.length > 1 ? duration((history[history.length - 1].t - history[0].t) / 1000) : "just now";
    return "now " + f(present[present.length - 1]) + unit + "; lowest " + f(Math.min.apply(null, present)) + unit +
      ", highest " + f(Math.max.apply(null, present)) + unit + " over the last " + span;
  }

  function chart(name, series, refs, unit, format) {
    var svg = document.querySelector('[data-chart="' + name + '"]');
    if (!svg) return;
    sparkline(svg, series, refs);
    var text = trend(series[0].values, unit, format);
    var t = svg.querySelector("title");
    if (t) t.textContent = svg.getAttribute("data-label") + ": " + text;
    var p = document.querySelector('[data-trend="' + name + '"]');
    if (p) p.textContent = text;
  }

  function shardBars(shards) {
    var svg = document.querySelector('[data-chart="shards"]');
    var tbody = $("#shard-rows");
    if (!svg || !tbody) return;
    var W = 240, H = 110, P = 4;
    var max = Math.max.apply(null, [1].concat(shards.map(function (s) { return s.waiting; })));
    var w = (W - 2 * P) / Math.max(1, shards.length);
    var title = svg.querySelector("title");
    var nodes = [el("line", { x1: 0, y1: H - P, x2: W, y2: H - P, class: "axis" })];
    shards.forEach(function (s, i) {
      var h = (Math.max(0, s.waiting) / max) * (H - 2 * P);
      var bar = el("rect", { x: (P + i * w + 1).toFixed(1), y: (H - P - h).toFixed(1), width: Math.max(1, w - 2).toFixed(1), height: h.toFixed(1) });
      var tip = el("title", {});
      tip.textContent = "shard " + s.shard + ": " + s.waiting + " waiting";
      bar.appendChild(tip);
      nodes.push(bar);
    });
    svg.replaceChildren.apply(svg, title ? [title].concat(nodes) : nodes);
    if (title) title.textContent = "Waiting per shard: " + shards.map(function (s) { return "shard " + s.shard + " " + s.waiting; }).join(", ");
    var rows = shards.map(function (s) {
      var tr = document.createElement("tr");
      [String(s.shard), fmt(s.tickets), fmt(s.admitted), fmt(s.waiting)].forEach(function (v, i) {
        var cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.setAttribute("scope", "row");
        cell.textContent = v;
        tr.appendChild(cell);
      });
      return tr;
    });
    tbody.replaceChildren.apply(tbody, rows);
  }

  // ---- one refresh ----------------------------------------------------------------------------------------

  /** The coordinator's aggregate when it has samples (global); else this isolate's register metrics. */
  function backendOf(stats, register) {
    if (stats.backend && typeof stats.backend === "object" && stats.backend.samples > 0) {
      return {
        latency: stats.backend.latency_ms,
        errorPct: stats.backend.error_rate === null ? null : stats.backend.error_rate * 100,
        source: "coordinator, " + fmt(stats.backend.samples) + " samples",
      };
    }
    if (!register) return { latency: null, errorPct: null, source: "register metrics unavailable" };
    var errorPct = null;
    if (lastRegister) {
      var calls = (register.reads + register.errors + register.busy) - (lastRegister.reads + lastRegister.errors + lastRegister.busy);
      var bad = (register.errors + register.busy) - (lastRegister.errors + lastRegister.busy);
      if (calls > 0 && bad >= 0) errorPct = (bad / calls) * 100;
      else if (calls === 0) errorPct = 0;
    }
    return {
      latency: register.latency_ms ? register.latency_ms.ewma : null,
      errorPct: errorPct,
      source: "this edge isolate: " + fmt(register.reads) + " reads, " + fmt(register.errors) + " errors, " + fmt(register.busy) + " refused busy",
    };
  }

  function render(stats, register) {
    var cfg = stats.config || {};
    var ratePerMin = stats.observed_admissions_per_second === null ? null : stats.observed_admissions_per_second * 60;
    var outflow = stats.outflow && typeof stats.outflow === "object" ? stats.outflow : null;
    var adaptive = outflow && outflow.mode === "adaptive" ? outflow : null;
    var target = adaptive ? adaptive.rate_per_minute : null;
    // What applies now (an event's settings replace the room's own while it runs).
    var eff = stats.effective || { new_users_per_minute: cfg.new_users_per_minute, total_active_users: cfg.total_active_users, queueing_method: cfg.queueing_method };
    var backend = backendOf(stats, register);
    var drainRate = stats.observed_admissions_per_second;
    var drain = stats.waiting === 0 ? 0 : cfg.paused || !drainRate ? null : stats.waiting / drainRate;
    history.push({
      t: Date.now(), waiting: stats.waiting, rate: ratePerMin, limit: eff.new_users_per_minute, target: target,
      active: stats.active, cap: eff.total_active_users, latency: backend.latency, errorPct: backend.errorPct, drain: drain,
    });
    while (history.length > HISTORY) history.shift();
    var col = function (k) { return history.map(function (h) { return h[k]; }); };

    setText("waiting", fmt(stats.waiting));
    setText("oldest", stats.oldest_waiting_age_seconds === null ? "nobody waiting" : "oldest place " + duration(stats.oldest_waiting_age_seconds) + " old");
    chart("waiting", [{ values: col("waiting"), cls: "series" }], [], "", fmt);

    setText("rate", ratePerMin === null ? "–" : fmt(ratePerMin) + "/min");
    setText("rate-sub", "limit " + fmt(eff.new_users_per_minute) + "/min" +
      (eff.new_users_per_minute !== cfg.new_users_per_minute ? " (configured " + fmt(cfg.new_users_per_minute) + ")" : "") +
      (adaptive ? " · adaptive target " + fmt(adaptive.rate_per_minute) + "/min (floor " + fmt(adaptive.floor) + ", ceiling " + fmt(adaptive.ceiling) + ")" : "") +
      " · " + fmt(stats.admitted_last_minute) + " admitted in the last minute");
    chart("rate", [{ values: col("rate"), cls: "series" }, { values: col("target"), cls: "target" }],
      [{ value: eff.new_users_per_minute, cls: "limit" }], "/min", fmt);

    setText("active", fmt(stats.active) + " of " + fmt(eff.total_active_users));
    setText("active-sub", fmt(stats.sessions_open) + " sessions open · " + fmt(stats.admitted_total) + " admitted in total");
    chart("active", [{ values: col("active"), cls: "series" }], [{ value: eff.total_active_users, cls: "limit" }], "", fmt);

    setText("latency", backend.latency === null || backend.latency === undefined ? "–" : fmt(backend.latency) + " ms");
    setText("latency-sub", "errors " + (backend.errorPct === null ? "–" : fmt(backend.errorPct) + " %") +
      (adaptive ? " · latency target " + fmt(adaptive.latency_target_ms) + " ms" : "") + " · " + backend.source);
    chart("latency", [{ values: col("latency"), cls: "series" }], adaptive ? [{ value: adaptive.latency_target_ms, cls: "limit" }] : [], " ms", fmt);

    setText("drain", stats.waiting === 0 ? "empty" : drain === null ? "not draining" : "≈ " + duration(drain));
    setText("drain-sub", cfg.paused ? "paused: nobody is admitted" : drainRate ? "waiting ÷ observed rate" : "no admissions observed in the last minute");
    chart("drain", [{ values: col("drain"), cls: "series" }], [], "", function (v) { return duration(v); });

    shardBars(stats.shards || []);

    var state = $("#state-badge");
    state.textContent = cfg.paused ? "paused" : "admitting";
    state.className = "badge " + (cfg.paused ? "paused" : "running");
    setText("method", eff.queueing_method + (eff.queueing_method !== cfg.queueing_method ? " (event; configured " + cfg.queueing_method + ")" : ""));
    setText("tick-error", stats.last_tick_error ? stats.last_tick_error : "none");
    field("tick-error").className = stats.last_tick_error ? "bad" : "";
    var phase = stats.event && stats.event.phase ? "phase " + stats.event.phase : null;
    setText("event", cfg.event ? describe(cfg.event) + (phase ? " · " + phase : "") : "none scheduled");
    var lottery = (stats.event && stats.event.lottery) || stats.lottery || null;
    setText("lottery", lottery ? describe({ commitment: lottery.commitment, seed: lottery.seed || "(secret until revealed)", revealed_at: lottery.revealed_at,
      entrants: lottery.entrants ? lottery.entrants.total : null }) : "none");
    setText("outflow", outflow ? outflow.mode + ": " + fmt(outflow.rate_per_minute) + "/min" +
      (adaptive ? " between " + fmt(adaptive.floor) + " and " + fmt(adaptive.ceiling) + ", latency target " + fmt(adaptive.latency_target_ms) + " ms" +
        (adaptive.last_decision ? " · last decision: " + (typeof adaptive.last_decision === "object" ? describe(adaptive.last_decision) : adaptive.last_decision) : "") : " (pinned)") : "fixed (configured limit)");
    var pause = $("#pause-toggle");
    pause.textContent = cfg.paused ? "Resume admission" : "Pause admission";
    pause.setAttribute("data-paused", cfg.paused ? "true" : "false");
    fillForms(cfg);
    $("#updated").textContent = "Updated " + new Date().toLocaleTimeString("en-GB");
  }

  function describe(obj) {
    return Object.keys(obj).filter(function (k) { return obj[k] !== null && obj[k] !== undefined; })
      .map(function (k) { var v = obj[k]; return k + ": " + (typeof v === "object" ? JSON.stringify(v) : String(v)); }).join(" · ");
  }

  /**
   * Keep the controls showing the room's configuration, except a field the operator is editing (focused,
   * or changed and not yet applied): a refresh must never overwrite what someone is typing.
   */
  function put(selector, value) {
    var input = $(selector);
    if (input.getAttribute("data-dirty") === "1" || document.activeElement === input) return;
    input.value = value === undefined || value === null ? "" : value;
  }

  function clean(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("[data-dirty]"), function (el) { el.removeAttribute("data-dirty"); });
  }

  function fillForms(cfg) {
    put("#new_users_per_minute", cfg.new_users_per_minute);
    put("#total_active_users", cfg.total_active_users);
    put("#queueing_method", cfg.queueing_method);
    var o = cfg.outflow;
    $("#outflow-form").hidden = !o;
    if (o) {
      put("#outflow_mode", o.mode);
      put("#outflow_floor", o.floor_per_minute);
      put("#outflow_ceiling", o.ceiling_per_minute);
      put("#outflow_latency", o.latency_target_ms);
    }
  }

  document.addEventListener("input", function (e) {
    if (e.target && e.target.closest && e.target.closest(".controls")) e.target.setAttribute("data-dirty", "1");
  });

  function refresh() {
    clearTimeout(timer);
    var asked = room;
    return Promise.all([api("GET", roomPath()), api("GET", "/v1/admin/register")]).then(function (rs) {
      if (asked !== room) return;
      var stats = rs[0], register = rs[1];
      var status = $("#connection");
      if (!stats.ok) {
        status.textContent = stats.status === 401 ? "Your session has ended: reload the page to log in again. (" + problemText(stats) + ")" : problemText(stats);
        status.className = "bad";
      } else {
        status.textContent = "Live: refreshing every " + POLL_MS / 1000 + " s";
        status.className = "good";
        last = stats.data;
        render(stats.data, register.ok ? register.data : null);
        if (register.ok) lastRegister = register.data;
      }
    }).finally(function () { timer = setTimeout(refresh, POLL_MS); });
  }

  // ---- controls ----------------------------------------------------------------------------------------

  function report(form, r, doneText) {
    var out = form.querySelector(".result");
    if (r.ok) { out.textContent = doneText; out.className = "result done"; }
    else { out.textContent = "Refused: " + problemText(r); out.className = "result error"; }
  }

  function change(form, patch, doneText) {
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button) button.disabled = true;
    return api("PUT", roomPath(), patch).then(function (r) {
      report(form, r, doneText);
      if (r.ok) { clean(form); return refresh(); }
    }).finally(function () { if (button) button.disabled = false; });
  }

  function intOf(input) { return input.value === "" ? undefined : Number(input.value); }

  /** A datetime-local value (the operator's local time) as an ISO-8601 instant in UTC. */
  function isoOf(input) {
    if (!input.value) return undefined;
    var d = new Date(input.value);
    return isNaN(d.getTime()) ? input.value : d.toISOString();
  }

  $("#pause-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var paused = $("#pause-toggle").getAttribute("data-paused") === "true";
    change(e.target, { paused: !paused }, paused ? "Admission resumed." : "Admission paused: nobody loses their place.");
  });

  $("#limits-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var patch = {};
    var rate = intOf($("#new_users_per_minute")), cap = intOf($("#total_active_users"));
    if (rate !== undefined) patch.new_users_per_minute = rate;
    if (cap !== undefined) patch.total_active_users = cap;
    change(e.target, patch, "Limits applied.");
  });

  $("#method-form").addEventListener("submit", function (e) {
    e.preventDefault();
    change(e.target, { queueing_method: $("#queueing_method").value }, "Queueing method applied.");
  });

  $("#outflow-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var o = { mode: $("#outflow_mode").value };
    var floor = intOf($("#outflow_floor")), ceiling = intOf($("#outflow_ceiling")), latency = intOf($("#outflow_latency"));
    if (floor !== undefined) o.floor_per_minute = floor;
    if (ceiling !== undefined) o.ceiling_per_minute = ceiling;
    if (latency !== undefined) o.latency_target_ms = latency;
    change(e.target, { outflow: o }, o.mode === "adaptive" ? "Adaptive outflow on." : "Rate pinned to the configured limit.");
  });

  $("#event-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var ev = { prequeue_start: isoOf($("#prequeue_start")), event_start: isoOf($("#event_start")) };
    var end = isoOf($("#event_end"));
    if (end) ev.event_end = end;
    var method = $("#event_method").value;
    if (method) ev.queueing_method = method;
    var rate = intOf($("#event_rate"));
    if (rate !== undefined) ev.new_users_per_minute = rate;
    var cap = intOf($("#event_cap"));
    if (cap !== undefined) ev.total_active_users = cap;
    change(e.target, { event: ev }, "Event scheduled.");
  });

  $("#lottery-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target;
    api("POST", roomPath("/lottery/reveal")).then(function (r) {
      report(form, r, "Revealed: " + (r.data && typeof r.data === "object" ? describe(r.data) : String(r.data)));
      if (r.ok) refresh();
    });
  });

  $("#room-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var next = $("#room").value.trim();
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(next)) { $("#connection").textContent = "Room names are 1-40 characters of a-z, 0-9 and '-'."; return; }
    room = next;
    history = [];
    lastRegister = null;
    clean(document);
    $("#room-name").textContent = room;
    window.history.replaceState(null, "", "/admin?room=" + encodeURIComponent(room));
    refresh();
  });

  window.antichambreDashboard = { refresh: refresh, history: function () { return history.slice(); }, last: function () { return last; } };
  refresh();
})();
`;
