// Number and table formatting for docs/benchmarks.md.

export const fmt = (n, digits = 3) => {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return String(Math.round(n));
  return String(Number(n.toPrecision(digits)));
};

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const scenario = (s) => `${s.rttMs} ms RTT, ${s.delayMs} ms processing`;
