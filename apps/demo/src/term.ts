// Terminal formatting for the CLI: colours only on a TTY without NO_COLOR.
import type { SocketAddress } from '@natkit/sans-io';

const useColor = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const wrap =
  (open: number, close: number) =>
  (s: string): string =>
    useColor ? `\u001b[${open}m${s}\u001b[${close}m` : s;

export const color = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  cyan: wrap(36, 39),
};

export function fmtAddr(a: SocketAddress | { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function fmtMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes to measure width
const ANSI = /\u001b\[[0-9;]*m/g;
const width = (s: string): number => s.replace(ANSI, '').length;

/** A plain box-drawing table; column widths ignore colour codes. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    `│ ${cells.map((c, i) => c + ' '.repeat(w[i]! - width(c))).join(' │ ')} │`;
  const rule = (l: string, m: string, r: string): string => l + w.map((n) => '─'.repeat(n + 2)).join(m) + r;
  return [
    rule('┌', '┬', '┐'),
    line(head.map(color.bold)),
    rule('├', '┼', '┤'),
    ...rows.map(line),
    rule('└', '┴', '┘'),
  ].join('\n');
}
