/**
 * The page's whole stylesheet, inlined (one request fewer on a saturated day) and allowed by the CSP
 * through a per-response nonce. Colours meet WCAG 2.1 AA contrast on white: text #1e1e1e (16.7:1),
 * links and buttons #000091 (14.9:1, white on it alike; 8.2:1 on hover), hints #53565a (7.4:1), the
 * admitted frame #18753c (5.8:1). Nothing is told by colour alone: every state has its own heading
 * and words.
 */
export const PAGE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1e1e1e;background:#fff}
body{margin:0}
header,main,footer{max-width:40rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;border-bottom:1px solid #ddd}
.brand{font-weight:700}
nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem}
a{color:#000091;text-underline-offset:.2em}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid #000091;outline-offset:3px}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.3rem;margin:0 0 .5rem}
h3{font-size:1.1rem;margin:1.25rem 0 .5rem}
.card{border:2px solid #1e1e1e;border-radius:.5rem;padding:1rem 1.25rem;margin:1rem 0}
.card.admitted{border-color:#18753c;border-width:4px}
.position{margin:.25rem 0}
.position-number{font-size:3rem;font-weight:700;line-height:1;margin-right:.5rem;font-variant-numeric:tabular-nums}
.wait strong{white-space:normal}
.hint,.progress-text,#updated{color:#53565a;font-size:.95rem}
progress{width:100%;height:1.25rem;accent-color:#000091;margin:.25rem 0}
label{display:block;font-weight:600}
input{font:inherit;padding:.5rem;border:2px solid #1e1e1e;border-radius:.25rem;width:100%;max-width:16rem}
.button,button{display:inline-block;font:inherit;font-weight:600;color:#fff;background:#000091;border:2px solid #000091;border-radius:.25rem;padding:.6rem 1rem;text-decoration:none;cursor:pointer}
.button:hover,button:hover{background:#1212ff;border-color:#1212ff}
.qr-box{margin:0}
.qr{width:100%;max-width:20rem;height:auto;display:block;border:1px solid #ddd}
.approve{margin-top:1rem}
#confirmation-code{text-transform:uppercase;letter-spacing:.2em;font-family:ui-monospace,monospace}
#approve-result{font-weight:600}
#approve-result:empty{display:none}
.notice{font-weight:600}
.notice:empty{display:none}
fieldset{border:1px solid #999;border-radius:.25rem;padding:1rem}
legend{font-weight:600;padding:0 .25rem}
[hidden]{display:none!important}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`.trim();
