import { QueueingMethodSchema } from "../../config/room-config";
import { escapeHtml, layout } from "./html";

/**
 * The operator dashboard's markup: a static skeleton the script (src/pages/browser/dashboard.ts) fills in. The room
 * reaches the script through a data attribute, never through inline code. Each chart is an SVG with
 * role="img" whose <title> the script keeps current, plus a visible one-line text summary.
 */
export function dashboardPage(options: { room: string; rooms: readonly string[] }): string {
  const room = escapeHtml(options.room);
  const roomOptions = options.rooms.map((r) => `<option value="${escapeHtml(r)}"></option>`).join("");
  const methods = QueueingMethodSchema.options.map((m) => `<option value="${m}">${m}</option>`).join("");
  return layout({
    title: `Antichambre: ${options.room}`,
    script: true,
    bodyAttributes: `data-room="${room}"`,
    body: `<header>
<h1>Antichambre operations · <span id="room-name">${room}</span></h1>
<form id="room-form" method="get" action="/admin">
<label for="room">Room</label>
<input id="room" name="room" value="${room}" list="rooms" required pattern="[a-z0-9][a-z0-9\\-]{0,39}" size="14">
<datalist id="rooms">${roomOptions}</datalist>
<button type="submit" class="secondary">Show</button>
</form>
<form method="post" action="/admin/logout"><button type="submit" class="secondary">Log out</button></form>
</header>
<main>
<div class="status-line">
<span id="state-badge" class="badge">loading</span>
<span id="connection" role="status">Connecting…</span>
<span id="updated"></span>
</div>

<section aria-labelledby="live-heading">
<h2 id="live-heading">Live</h2>
<div class="tiles">
${tile("waiting", "Queue length", "Queue length", "oldest")}
${tile("rate", "Admissions per minute", "Admission rate against its limit", "rate-sub", '<p class="legend"><span class="k-series">━ observed</span> · <span class="k-limit">╌ limit</span> · <span class="k-target">┄ adaptive target</span></p>')}
${tile("active", "Active users", "Active users against the cap", "active-sub")}
${tile("latency", "Backend latency", "Backend latency", "latency-sub")}
${tile("drain", "Time to drain", "Estimated time to drain the queue", "drain-sub")}
</div>
</section>

<section aria-labelledby="shards-heading">
<h2 id="shards-heading">Per-shard load</h2>
<figure class="tile">
<svg class="bars" data-chart="shards" viewBox="0 0 240 110" preserveAspectRatio="none" role="img"><title>Waiting per shard</title></svg>
<table>
<caption class="sr-only">Tickets, admissions and people waiting per queue shard</caption>
<thead><tr><th scope="col">shard</th><th scope="col">tickets</th><th scope="col">admitted</th><th scope="col">waiting</th></tr></thead>
<tbody id="shard-rows"></tbody>
</table>
</figure>
</section>

<section aria-labelledby="state-heading">
<h2 id="state-heading">State</h2>
<dl class="state">
<dt>Queueing method</dt><dd data-field="method">–</dd>
<dt>Outflow</dt><dd data-field="outflow">–</dd>
<dt>Event</dt><dd data-field="event">–</dd>
<dt>Lottery</dt><dd data-field="lottery">–</dd>
<dt>Last tick error</dt><dd data-field="tick-error">–</dd>
</dl>
</section>

<section aria-labelledby="controls-heading">
<h2 id="controls-heading">Controls</h2>
<div class="controls">
<form id="pause-form"><fieldset><legend>Admission</legend>
<p class="hint">Pausing stops admission; nobody loses their place.</p>
<button type="submit" id="pause-toggle" data-paused="false">Pause admission</button>
</fieldset><p class="result" role="status"></p></form>

<form id="limits-form"><fieldset><legend>Limits</legend>
<div class="field"><label for="new_users_per_minute">New users per minute</label>
<input id="new_users_per_minute" name="new_users_per_minute" type="number" min="1" max="1000000" step="1" required></div>
<div class="field"><label for="total_active_users">Total active users</label>
<input id="total_active_users" name="total_active_users" type="number" min="1" max="10000000" step="1" required></div>
<button type="submit">Apply limits</button>
</fieldset><p class="result" role="status"></p></form>

<form id="method-form"><fieldset><legend>Queueing method</legend>
<div class="field"><label for="queueing_method">Method</label>
<select id="queueing_method" name="queueing_method">${methods}</select></div>
<button type="submit">Apply method</button>
</fieldset><p class="result" role="status"></p></form>

<form id="outflow-form" hidden><fieldset><legend>Outflow</legend>
<p class="hint">Adaptive: the rate follows the backend's health between floor and ceiling. Fixed: the rate is pinned to the limit above.</p>
<div class="field"><label for="outflow_mode">Mode</label>
<select id="outflow_mode"><option value="fixed">fixed (pinned)</option><option value="adaptive">adaptive</option></select></div>
<div class="field"><label for="outflow_floor">Floor (per minute)</label><input id="outflow_floor" type="number" min="1" max="1000000" step="1"></div>
<div class="field"><label for="outflow_ceiling">Ceiling (per minute)</label><input id="outflow_ceiling" type="number" min="1" max="1000000" step="1"></div>
<div class="field"><label for="outflow_latency">Backend latency target (ms)</label><input id="outflow_latency" type="number" min="1" max="60000" step="1"></div>
<button type="submit">Apply outflow</button>
</fieldset><p class="result" role="status"></p></form>

<form id="event-form"><fieldset><legend>Schedule an event</legend>
<p class="hint">Times are in this browser's time zone; they are sent as UTC.</p>
<div class="field"><label for="prequeue_start">Pre-queue opens</label><input id="prequeue_start" type="datetime-local" step="1" required></div>
<div class="field"><label for="event_start">Event starts (lottery draw)</label><input id="event_start" type="datetime-local" step="1" required></div>
<div class="field"><label for="event_end">Event ends (optional)</label><input id="event_end" type="datetime-local" step="1"></div>
<div class="field"><label for="event_method">Queueing method during the event (optional)</label>
<select id="event_method"><option value="">unchanged</option>${methods}</select></div>
<div class="field"><label for="event_rate">New users per minute during the event (optional)</label><input id="event_rate" type="number" min="1" max="1000000" step="1"></div>
<div class="field"><label for="event_cap">Total active users during the event (optional)</label><input id="event_cap" type="number" min="1" max="10000000" step="1"></div>
<button type="submit">Schedule event</button>
</fieldset><p class="result" role="status"></p></form>

<form id="lottery-form"><fieldset><legend>Lottery</legend>
<p class="hint">Publishes the seed behind the committed hash, so anyone can recompute every pre-queue rank. Only after the event has started.</p>
<button type="submit">Reveal lottery seed</button>
</fieldset><p class="result" role="status"></p></form>
</div>
</section>

<section aria-labelledby="credentials-heading">
<h2 id="credentials-heading">Issued credentials</h2>
<p class="hint">Suspension (status 2) can be lifted by a reinstatement (0); a revocation (1) is final. A change shows at once in this
location's status lists, elsewhere within the lists' ttl. Every change is recorded in the audit log below.</p>
<div class="controls">
<form id="person-form"><fieldset><legend>Every credential of a person</legend>
<p class="hint">The person id is pseudonymised on arrival: it is neither stored nor shown back.</p>
<div class="field"><label for="person_id">Person id</label>
<input id="person_id" name="person_id" required maxlength="64" autocomplete="off" spellcheck="false"></div>
${lifecycleFields("person")}
</fieldset><p class="result" role="status"></p></form>

<form id="index-form"><fieldset><legend>One credential</legend>
<p class="hint">The list is the last segment of the credential's status_list uri, the index its idx.</p>
<div class="field"><label for="status_list">Status list</label>
<input id="status_list" name="list" required maxlength="32" pattern="[0-9]+-[0-9]+" autocomplete="off" spellcheck="false"></div>
<div class="field"><label for="status_idx">Index</label><input id="status_idx" name="idx" type="number" min="0" step="1" required></div>
${lifecycleFields("index")}
</fieldset><p class="result" role="status"></p></form>
</div>

<h3 id="audit-heading">Audit log</h3>
<table aria-labelledby="audit-heading">
<thead><tr><th scope="col">when</th><th scope="col">who</th><th scope="col">action</th><th scope="col">target</th><th scope="col">credentials</th><th scope="col">reason</th></tr></thead>
<tbody id="audit-rows"></tbody>
</table>
<p><button type="button" id="audit-more" class="secondary" hidden>Older entries</button> <span id="audit-status" role="status"></span></p>
</section>
</main>`,
  });
}

/** The action, reason and revocation confirmation every credential form shares (ids prefixed by the form). */
function lifecycleFields(prefix: string): string {
  return `<div class="field"><label for="${prefix}_action">Action</label>
<select id="${prefix}_action" name="action"><option value="suspend">suspend</option><option value="reinstate">reinstate</option><option value="revoke">revoke (final)</option></select></div>
<div class="field"><label for="${prefix}_reason">Reason (optional; no names or personal data)</label>
<input id="${prefix}_reason" name="reason" maxlength="200" autocomplete="off"></div>
<div class="field"><label><input type="checkbox" id="${prefix}_confirm"> A revocation cannot be undone</label></div>
<button type="submit">Apply</button>`;
}

function tile(name: string, label: string, chartLabel: string, sub: string, extra = ""): string {
  return `<figure class="tile">
<figcaption><span class="label">${label}</span><span class="value" data-field="${name}">–</span><span class="sub" data-field="${sub}"></span></figcaption>
<svg class="spark" data-chart="${name}" data-label="${chartLabel}" viewBox="0 0 240 60" preserveAspectRatio="none" role="img"><title>${chartLabel}</title></svg>
${extra}<p class="trend" data-trend="${name}" aria-hidden="true"></p>
</figure>`;
}
