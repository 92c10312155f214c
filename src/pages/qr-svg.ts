import qrcode from "qrcode-generator";
import { html, raw, type Html } from "./html";

/** Light modules around the code, as the QR specification asks, so scanners find its edges. */
const QUIET_ZONE = 4;

/**
 * A QR code as inline SVG. The library's own SVG draws one square per dark module (hundreds of KiB for
 * a credential offer); here each horizontal run of dark modules is one stroked line with relative
 * moves, which keeps an offer of about 700 characters near 15 KiB. Error correction L: the code is
 * shown on a screen, not printed where it could be torn or stained, and every level up adds modules
 * (a denser code is harder for a phone camera to read off a laptop screen).
 */
export function qrSvg(text: string, options: { title: string; id: string }): Html {
  const qr = qrcode(0, "L");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  let d = "";
  for (let row = 0; row < n; row++) {
    // Each line is drawn through the middle of its module row; `x` is where the pen is.
    let x = -1;
    for (let col = 0; col < n;) {
      if (!qr.isDark(row, col)) {
        col++;
        continue;
      }
      let end = col;
      while (end < n && qr.isDark(row, end)) end++;
      d += x < 0 ? `M${col + QUIET_ZONE} ${row + QUIET_ZONE}.5` : `m${col - x} 0`;
      d += `h${end - col}`;
      x = end;
      col = end;
    }
  }
  const size = n + 2 * QUIET_ZONE;
  const titleId = `${options.id}-title`;
  return html`<svg xmlns="http://www.w3.org/2000/svg" id="${options.id}" class="qr" viewBox="0 0 ${size} ${size}" role="img" aria-labelledby="${titleId}" shape-rendering="crispEdges"><title id="${titleId}">${options.title}</title><rect width="${size}" height="${size}" fill="#fff"/><path stroke="#000" stroke-width="1" d="${raw(d)}"/></svg>`;
}
