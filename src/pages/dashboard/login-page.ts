import { escapeHtml, layout } from "./html";

/**
 * The login form: the admin token, posted once to /admin/login (never kept by the page). `room` is
 * carried through so the operator lands on the room they asked for.
 */
export function loginPage(options: { room: string; message?: string }): string {
  const message = options.message ? `<p class="error" role="alert">${escapeHtml(options.message)}</p>` : "";
  return layout({
    title: "Antichambre: operator login",
    body: `<main>
<form class="login" method="post" action="/admin/login">
<h1>Antichambre operations</h1>
${message}
<div class="field">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="4096" autofocus>
</div>
<input type="hidden" name="room" value="${escapeHtml(options.room)}">
<button type="submit">Log in</button>
<p class="hint">The token is checked once; the browser then holds a short-lived signed session cookie, not the token.</p>
</form>
</main>`,
  });
}

/** What a deployment without an ADMIN_TOKEN secret shows: the admin surface is off, not open. */
export function disabledPage(): string {
  return layout({
    title: "Antichambre: admin disabled",
    body: `<main><div class="login"><h1>Admin disabled</h1><p>No ADMIN_TOKEN secret is set on this deployment, so the dashboard and the admin API are switched off.</p></div></main>`,
  });
}
