/**
 * The dashboard's stylesheet, served as a separate asset (the CSP allows no inline style). System
 * fonts, no images; colours chosen for at least 4.5:1 contrast on their backgrounds (WCAG AA).
 */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --bg: #f6f6f4; --card: #ffffff;
  --accent: #1f4fa3; --limit: #8a3b00; --target: #5b2d8a; --bad: #a4161a; --ok: #1b5e20; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; padding: .75rem 1.25rem; background: #13294b; color: #fff; }
header h1 { font-size: 1.15rem; margin: 0; }
header form { display: flex; gap: .5rem; align-items: center; margin: 0; }
header label { font-weight: 600; }
main { padding: 1rem 1.25rem 2rem; max-width: 1200px; margin: 0 auto; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #767676; border-radius: 4px; background: #fff; color: var(--ink); }
button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.status-line { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; margin: 0 0 .75rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-weight: 600; border: 1px solid currentColor; }
.badge.paused, .bad { color: var(--bad); }
.badge.running, .good { color: var(--ok); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: .75rem; }
.tile { margin: 0; padding: .75rem; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
.tile figcaption { display: flex; flex-direction: column; }
.tile .label { color: var(--muted); font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; }
.tile .value { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.tile .sub, .trend { color: var(--muted); font-size: .85rem; margin: 0; }
svg.spark, svg.bars { display: block; width: 100%; height: 64px; margin: .35rem 0 .2rem; }
svg.bars { height: 120px; }
.spark .series { fill: none; stroke: var(--accent); stroke-width: 2; }
.spark .limit { stroke: var(--limit); stroke-width: 1.5; stroke-dasharray: 5 3; }
.spark .target { fill: none; stroke: var(--target); stroke-width: 1.5; stroke-dasharray: 2 2; }
.spark .axis, .bars .axis { stroke: var(--line); stroke-width: 1; }
.bars rect { fill: var(--accent); }
.legend { font-size: .8rem; color: var(--muted); margin: 0; }
.legend .k-limit { color: var(--limit); } .legend .k-target { color: var(--target); } .legend .k-series { color: var(--accent); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; background: var(--card); }
th, td { border: 1px solid var(--line); padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
dl.state { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; background: var(--card); padding: .75rem; border: 1px solid var(--line); border-radius: 6px; }
dl.state dt { font-weight: 600; } dl.state dd { margin: 0; overflow-wrap: anywhere; }
.controls { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: .75rem; }
.controls form, .login { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin: 0; }
.controls fieldset { border: 0; padding: 0; margin: 0; display: grid; gap: .45rem; }
.controls legend { font-weight: 700; padding: 0; margin-bottom: .25rem; }
.field { display: grid; gap: .15rem; }
.field label { font-size: .9rem; }
.hint { font-size: .8rem; color: var(--muted); margin: 0; }
.result { min-height: 1.4em; margin: .4rem 0 0; font-size: .9rem; overflow-wrap: anywhere; }
.result.error { color: var(--bad); } .result.done { color: var(--ok); }
.login { max-width: 26rem; margin: 3rem auto; display: grid; gap: .75rem; }
.login h1 { font-size: 1.25rem; margin: 0; }
.login .error { color: var(--bad); font-weight: 600; margin: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;
