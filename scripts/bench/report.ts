/** Rows of the benchmark table: each figure, its budget (docs/architecture.md, "Budgets") and a verdict. */

export type Unit = 'ms' | 'x' | 'B' | 'ops/s' | 'count';
export type Verdict = 'pass' | 'fail' | 'info' | 'n/a';

export interface Budget {
  readonly op: '<' | '<=';
  readonly limit: number;
  readonly unit: Unit;
  /** Where the budget comes from / what it means, for the JSON file. */
  readonly source: string;
}

export interface Row {
  readonly id: string;
  readonly section: string;
  readonly label: string;
  /** The figure the verdict is about; null when it could not be measured (see note). */
  readonly value: number | null;
  readonly unit: Unit;
  /** For ratios taken over several runs: min and max over the runs. */
  readonly spread?: { readonly min: number; readonly max: number; readonly runs: number };
  /** Extra text shown after the value (e.g. the other percentiles). */
  readonly detail?: string;
  readonly budget: Budget | null;
  readonly verdict: Verdict;
  readonly note?: string;
}

export const BUDGETS = {
  pipelineRatio: {
    op: '<=',
    limit: 1.2,
    unit: 'x',
    source:
      'set_pin pipeline p50 with the default profile (public-key) within 1.2x of (bare fresh-connection POST of the same body + one bare keychain read of the same service + one durable 300-byte append), interleaved in one run',
  },
  padJsGzip: { op: '<', limit: 25_000, unit: 'B', source: 'PIN pad page JS under 25 KB gzip (KB = 1000 bytes)' },
  padInteractive: { op: '<', limit: 100, unit: 'ms', source: 'keypad interactive under 100 ms after navigation' },
  shippingPressRatio: {
    op: '<=',
    limit: 1.2,
    unit: 'x',
    source: 'audit shipping never adds to PIN entry latency: key press -> DOM updated p95 with the collector up (taking a backlog) and down, each within 1.2x of no shipping, same run',
  },
  padPressToDot: { op: '<=', limit: 18.7, unit: 'ms', source: "key press -> dot painted, p95 within one frame (16.7 ms) + 2 ms on an otherwise idle machine, presses at a person's pace (at least 120 ms apart)" },
  audioFirstPrompt: { op: '<', limit: 150, unit: 'ms', source: "audio guidance: the first prompt plays within 150 ms of Start (Start clicked -> the pad's output play() of the prompt, p95)" },
  startupLongTrail: {
    op: '<=',
    limit: 3000,
    unit: 'ms',
    source: 'normal start-up (checkpoint and card-history snapshot in place) on the longest trail (1,000,000 records) at most 3 s beyond the 1-record start',
  },
  startupMemory: { op: '<=', limit: 1.5, unit: 'x', source: 'start-up memory flat (streamed): peak RSS on the longest trail within 1.5x of the 1-record start' },
} as const satisfies Record<string, Budget>;

/**
 * Key press -> DOM updated: a press needs one IPC round trip, which the page cannot avoid, so the budget is the
 * harness's own round trip p95 measured in the same run (interleaved with the presses) plus 3 ms.
 */
export function padPressToDomBudget(ipcRoundTripP95Ms: number | null): Budget {
  return {
    op: '<=',
    limit: ipcRoundTripP95Ms === null ? Number.NaN : Math.round((ipcRoundTripP95Ms + 3) * 10) / 10,
    unit: 'ms',
    source: 'key press -> DOM updated, p95 at most one IPC round trip p95 (window.pinpad.getState, same run, interleaved) + 3 ms',
  };
}

export function verdictOf(value: number | null, budget: Budget | null): Verdict {
  if (budget === null) return value === null ? 'n/a' : 'info';
  if (value === null || !Number.isFinite(value)) return 'n/a';
  return (budget.op === '<' ? value < budget.limit : value <= budget.limit) ? 'pass' : 'fail';
}

export function row(fields: Omit<Row, 'verdict'>): Row {
  return { ...fields, verdict: verdictOf(fields.value, fields.budget) };
}

/** A row that could not be measured, with the reason. */
export function naRow(fields: Omit<Row, 'verdict' | 'value'>, reason: string): Row {
  return { ...fields, value: null, verdict: 'n/a', note: reason };
}

export function formatValue(value: number | null, unit: Unit): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(3)} ms`;
    case 'x':
      return `x${value.toFixed(2)}`;
    case 'B':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} kB` : `${value} B`;
    case 'ops/s':
      return `${Math.round(value).toLocaleString('en-US')} ops/s`;
    case 'count':
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
}

function formatBudget(budget: Budget | null): string {
  if (!budget) return '-';
  if (!Number.isFinite(budget.limit)) return `${budget.op} IPC p95 + 3 ms`;
  const limit =
    budget.unit === 'x' ? `x${budget.limit}` : budget.unit === 'B' ? `${budget.limit / 1000} kB` : budget.unit === 'ms' ? `${budget.limit} ms` : formatValue(budget.limit, budget.unit);
  return `${budget.op} ${limit}`;
}

function formatRowValue(r: Row): string {
  let text = formatValue(r.value, r.unit);
  if (r.value !== null && r.spread && r.spread.runs > 1) {
    text += ` [${formatValue(r.spread.min, r.unit)}-${formatValue(r.spread.max, r.unit)}]`;
  }
  return text;
}

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));

/** Fixed-width table: figure, value (with min-max over runs), budget, verdict; details and notes indented below. */
export function renderTable(rows: readonly Row[]): string {
  const widths = {
    label: Math.max(6, ...rows.map((r) => r.label.length)),
    value: Math.max(5, ...rows.map((r) => formatRowValue(r).length)),
    budget: Math.max(6, ...rows.map((r) => formatBudget(r.budget).length)),
  };
  const lines: string[] = [];
  const header = `${pad('Figure', widths.label)}  ${pad('Value', widths.value)}  ${pad('Budget', widths.budget)}  Result`;
  const rule = '-'.repeat(header.length + 2);
  let section = '';
  lines.push(header, rule);
  for (const r of rows) {
    if (r.section !== section) {
      if (section !== '') lines.push('');
      section = r.section;
      lines.push(`[${section}]`);
    }
    const verdict = r.verdict === 'pass' ? 'PASS' : r.verdict === 'fail' ? 'FAIL' : r.verdict === 'n/a' ? 'n/a' : 'info';
    lines.push(`${pad(r.label, widths.label)}  ${pad(formatRowValue(r), widths.value)}  ${pad(formatBudget(r.budget), widths.budget)}  ${verdict}`);
    if (r.detail) lines.push(`    ${r.detail}`);
    if (r.note) lines.push(`    note: ${r.note}`);
  }
  lines.push(rule);
  return lines.join('\n');
}
