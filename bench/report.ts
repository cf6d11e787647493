/** The targets, judged on the figures, and the short table `npm run bench` prints. */

export interface Target {
  name: string;
  /** How the figure must compare with the limit. */
  rule: '>=' | '<=';
  limit: number;
  unit: string;
  value: number | null;
  pass: boolean | null;
}

export function target(name: string, value: number | null | undefined, rule: '>=' | '<=', limit: number, unit: string): Target {
  const known = value === null || value === undefined || Number.isNaN(value) ? null : value;
  return { name, rule, limit, unit, value: known, pass: known === null ? null : rule === '>=' ? known >= limit : known <= limit };
}

export const verdict = (t: Target | undefined): string => (!t || t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL');
export const limitText = (t: Target): string => `${t.rule === '>=' ? '≥' : '≤'} ${t.limit}${t.unit}`;

/** Plain columns, padded; the first column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   ').trimEnd()).join('\n');
}

export const fixed = (value: number | null | undefined, digits = 1): string => (value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));
