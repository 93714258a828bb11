import jsQRModule from 'jsqr';

// A CommonJS module typed as an ES one: Node's default import is the function, its `default` too.
const jsQR = (jsQRModule as unknown as { default: typeof jsQRModule.default }).default;

/**
 * Reads back a QR code drawn for a terminal by `qrcode` (type 'terminal', small): each character is two
 * modules stacked, '█' both dark, '▀' the upper, '▄' the lower, ' ' neither (black on a white
 * background; a line in white foreground is quiet zone). The modules are painted into an image, as a
 * camera would see them, and decoded with jsQR. undefined if no code is found.
 */
export function decodeTerminalQr(text: string): string | undefined {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('\x1b[47m')) continue;
    const quiet = line.includes('\x1b[37m');
    const cells = [...line.replace(/\x1b\[[0-9;]*m/g, '')];
    if (cells.length === 0) continue;
    rows.push(cells.map((c) => !quiet && (c === '█' || c === '▀')));
    rows.push(cells.map((c) => !quiet && (c === '█' || c === '▄')));
  }
  return decodeModules(rows);
}

/**
 * Reads back a QR code drawn as SVG by `qrcode` (type 'svg'): its dark modules are one path of
 * horizontal strokes, `M x y` and `m dx dy` moves and `h n` runs, one module high.
 */
export function decodeSvgQr(svg: string): string | undefined {
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1];
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  if (path === undefined || !size) return undefined;
  const rows: boolean[][] = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  let x = 0;
  let y = 0;
  for (const [, command, args] of path.matchAll(/([MmHh])([^MmHh]*)/g)) {
    const [a = 0, b = 0] = args!.trim().split(/[\s,]+/).map(Number);
    if (command === 'M') [x, y] = [a, b];
    else if (command === 'm') [x, y] = [x + a, y + b];
    else {
      for (let i = 0; i < a; i++) rows[Math.floor(y)]![x + i] = true;
      x += a;
    }
  }
  return decodeModules(rows);
}

/** Dark modules painted into an image with a quiet zone, as a camera would see them, read by jsQR. */
export function decodeModules(rows: boolean[][]): string | undefined {
  if (rows.length === 0) return undefined;
  const scale = 6;
  const margin = 4;
  const width = (Math.max(...rows.map((r) => r.length)) + 2 * margin) * scale;
  const height = (rows.length + 2 * margin) * scale;
  const pixels = new Uint8ClampedArray(width * height * 4).fill(255);
  rows.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const at = (((y + margin) * scale + dy) * width + (x + margin) * scale + dx) * 4;
          pixels[at] = pixels[at + 1] = pixels[at + 2] = 0;
        }
      }
    }),
  );
  return jsQR(pixels, width, height)?.data;
}
