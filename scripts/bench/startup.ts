/**
 * Start-up on a long trail: trails of N card records (the shipping bench's backlog writer), each started twice
 * through launchStation, timed from the launch to the operator's "Card ID" field enabled. The FIRST start finds
 * no checkpoint (the whole chain is MAC-checked: once, after an upgrade or a restore); the NORMAL start finds the
 * checkpoint and card-history snapshot the first one left (every start of a station that has been running).
 *
 * Each start runs in a child process of its own (`node --import tsx` of this file), so its peak RSS (VmHWM, read
 * from /proc/<pid>/status while it runs) is the start-up's alone: main's core runs in that process, Chromium in
 * others. `npm run audit -- verify` and `export` on the longest trail are timed and measured the same way (the
 * CLI run directly with `node --import tsx`, as `tsx` would run it, without tsx's own parent process).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditFilePath } from '../../main/core/audit/files';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import type { KeyAccount, KeyStore } from '../../main/core/keystore';
import { BUDGETS, formatValue, naRow, row } from './report';
import type { Row } from './report';
import { writeBacklog } from './shipping';
import { REPO_ROOT } from './sizes';

export interface StartupOptions {
  /** Trail lengths (records), each written once and started twice. */
  readonly trails: readonly number[];
  readonly progress?: (line: string) => void;
}

export interface StartMeasure {
  /** launchStation() called -> the operator's "Card ID" field enabled. */
  readonly ms: number;
  /** Peak RSS of the process that started the station (VmHWM). */
  readonly peakRssBytes: number;
}

export interface StartupPoint {
  readonly records: number;
  readonly trailBytes: number;
  readonly writeMs: number;
  readonly first: StartMeasure;
  readonly normal: StartMeasure;
  /** What the first start left for the second: the checkpoint, the card-history snapshot. */
  readonly leftCheckpoint: boolean;
  readonly leftHistorySnapshot: boolean;
}

export interface CliMeasure {
  readonly ms: number;
  readonly peakRssBytes: number;
  readonly exitCode: number;
  /** Its first line of output ("ok: N records verified ..."). */
  readonly firstLine: string;
}

export interface StartupResult {
  readonly points: readonly StartupPoint[];
  /** On the longest trail, after its two starts. */
  readonly verify: CliMeasure & { readonly records: number };
  readonly export: CliMeasure & { readonly records: number; readonly outputBytes: number };
}

const CHILD_FLAG = '--startup-child';
const THIS_FILE = fileURLToPath(import.meta.url);
/** Generous: a first start on a million records checks every MAC on a machine that may be busy. */
const CHILD_TIMEOUT_MS = 30 * 60_000;

/** Runs `args` under node with tsx, sampling its VmHWM until it exits. */
function runMeasured(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string; ms: number; peakRssBytes: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    // VmHWM only grows, so the last reading before the exit is the peak (to within one interval of the end).
    const sample = (): void => {
      try {
        const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // exited between two readings
      }
    };
    const sampler = setInterval(sample, 20);
    const timeout = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearInterval(sampler);
      clearTimeout(timeout);
      fail(error);
    });
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(timeout);
      if (peakKb === 0) return fail(new Error(`no RSS reading of ${args.join(' ')}`));
      done({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: performance.now() - started, peakRssBytes: peakKb * 1024 });
    });
    sample();
  });
}

/** One start in a child process; its own timing (launch -> Card ID enabled) comes back on stdout. */
async function measureStart(service: string, auditPath: string): Promise<StartMeasure> {
  const run = await runMeasured([THIS_FILE, CHILD_FLAG, JSON.stringify({ service, auditPath })]);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code !== 0 || !line.startsWith('{')) throw new Error(`start-up child failed (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  const { ms } = JSON.parse(line) as { ms: number };
  return { ms, peakRssBytes: run.peakRssBytes };
}

async function measureCli(args: readonly string[]): Promise<CliMeasure> {
  const run = await runMeasured([join(REPO_ROOT, 'main/admin/audit/cli.ts'), ...args]);
  const firstLine = (run.stdout.trim() || run.stderr.trim()).split('\n')[0] ?? '';
  if (run.code !== 0) throw new Error(`audit ${args[0]} failed (exit ${run.code}): ${firstLine}`);
  return { ms: run.ms, peakRssBytes: run.peakRssBytes, exitCode: run.code, firstLine };
}

export async function runStartupBench(options: StartupOptions): Promise<StartupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pin-station-bench-startup-'));
  const points: StartupPoint[] = [];
  const longest = Math.max(...options.trails);
  let cli: Pick<StartupResult, 'verify' | 'export'> | null = null;
  try {
    for (const records of options.trails) {
      const service = `pin-station-bench-${randomBytes(6).toString('hex')}`;
      const keyStore = new KeytarKeyStore(service);
      const dataDir = join(dir, String(records));
      const auditPath = auditFilePath(dataDir);
      try {
        options.progress?.(`  start-up: writing a trail of ${records.toLocaleString('en-US')} records`);
        const writeStarted = performance.now();
        await writeBacklog(auditPath, keyStore, records);
        const writeMs = performance.now() - writeStarted;
        const trailBytes = statSync(auditPath).size;
        options.progress?.(`  start-up: ${records.toLocaleString('en-US')} records (${(trailBytes / 1e6).toFixed(1)} MB): first start`);
        const first = await measureStart(service, auditPath);
        const leftCheckpoint = existsSync(`${auditPath}.verified`);
        const leftHistorySnapshot = existsSync(`${auditPath}.history`);
        options.progress?.(`  start-up: ${records.toLocaleString('en-US')} records: normal start`);
        const normal = await measureStart(service, auditPath);
        points.push({ records, trailBytes, writeMs, first, normal, leftCheckpoint, leftHistorySnapshot });
        if (records === longest && cli === null) {
          options.progress?.(`  start-up: audit verify and export of ${records.toLocaleString('en-US')} records`);
          const common = ['--data-dir', dataDir, '--service', service];
          const verify = await measureCli(['verify', ...common]);
          const out = join(dir, 'export.csv');
          const exported = await measureCli(['export', ...common, '--format', 'csv', '--out', out]);
          const outputBytes = statSync(out).size;
          rmSync(out, { force: true });
          const count = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
          cli = {
            verify: { ...verify, records: count(verify.firstLine, /^ok: (\d+) record/) },
            export: { ...exported, records: count(exported.firstLine, /; (\d+) exported/), outputBytes },
          };
        }
      } finally {
        for (const account of ['audit-key', 'audit-mark'] as const) await keyStore.delete(account).catch(() => false);
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (cli === null) throw new Error('no trail to verify');
  return { points, ...cli };
}

const count = (n: number): string => n.toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

/** The start-up table: per trail the first and the normal start, then the two budgets and the CLI's figures. */
export function startupRows(result: StartupResult | null, trails: readonly number[], why = 'not run'): Row[] {
  const longest = Math.max(...trails);
  const shortest = Math.min(...trails);
  const section = `start-up on a long trail: launchStation() -> "Card ID" enabled, each start in a child process (peak RSS = its VmHWM); trails of ${trails.map(count).join(' / ')} records`;
  const budgetLabel = `normal start at ${count(longest)} records minus the ${count(shortest)}-record start`;
  const memoryLabel = `peak RSS of a start at ${count(longest)} records / at ${count(shortest)} (normal starts)`;
  if (result === null) {
    return [
      naRow({ id: 'startup.normal.overShortest', section, label: budgetLabel, unit: 'ms', budget: BUDGETS.startupLongTrail }, why),
      naRow({ id: 'startup.peakRss.ratio', section, label: memoryLabel, unit: 'x', budget: BUDGETS.startupMemory }, why),
    ];
  }
  const rows: Row[] = [];
  for (const point of result.points) {
    const n = count(point.records);
    rows.push(
      row({
        id: `startup.first.${point.records}`,
        section,
        label: `${n} records (${mb(point.trailBytes)}): first start (no checkpoint: every MAC checked)`,
        value: point.first.ms,
        unit: 'ms',
        budget: null,
        detail: `peak RSS ${mb(point.first.peakRssBytes)} · left ${point.leftCheckpoint ? 'a checkpoint' : 'no checkpoint'}${point.leftHistorySnapshot ? ' and a card-history snapshot' : ''} · trail written in ${formatValue(point.writeMs, 'ms')}`,
      }),
      row({
        id: `startup.normal.${point.records}`,
        section,
        label: `${n} records: normal start (with what the first start left)`,
        value: point.normal.ms,
        unit: 'ms',
        budget: null,
        detail: `peak RSS ${mb(point.normal.peakRssBytes)}`,
      }),
    );
  }
  const low = result.points.find((p) => p.records === shortest);
  const high = result.points.find((p) => p.records === longest);
  rows.push(
    row({
      id: 'startup.normal.overShortest',
      section,
      label: budgetLabel,
      value: low && high ? high.normal.ms - low.normal.ms : null,
      unit: 'ms',
      budget: BUDGETS.startupLongTrail,
    }),
    row({
      id: 'startup.peakRss.ratio',
      section,
      label: memoryLabel,
      value: low && high ? high.normal.peakRssBytes / low.normal.peakRssBytes : null,
      unit: 'x',
      budget: BUDGETS.startupMemory,
      detail: low && high ? `${mb(high.normal.peakRssBytes)} vs ${mb(low.normal.peakRssBytes)}; first starts ${mb(high.first.peakRssBytes)} vs ${mb(low.first.peakRssBytes)}` : undefined,
    }),
    row({
      id: 'startup.auditVerify',
      section,
      label: `npm run audit -- verify, ${count(longest)} records (child process, wall clock)`,
      value: result.verify.ms,
      unit: 'ms',
      budget: null,
      detail: `peak RSS ${mb(result.verify.peakRssBytes)} · ${result.verify.firstLine.replace(/: \/\S+$/, '')}`,
    }),
    row({
      id: 'startup.auditExport',
      section,
      label: `npm run audit -- export --format csv --out, ${count(longest)} records`,
      value: result.export.ms,
      unit: 'ms',
      budget: null,
      detail: `peak RSS ${mb(result.export.peakRssBytes)} · ${count(result.export.records)} records, ${mb(result.export.outputBytes)} of CSV`,
    }),
  );
  return rows;
}

/** The child: one launch on the given trail, its time printed as JSON. */
async function child(argument: string): Promise<void> {
  const { service, auditPath } = JSON.parse(argument) as { service: string; auditPath: string };
  const { launchStation } = await import('../../test/harness/launch-station');
  const store = new KeytarKeyStore(service);
  // close() deletes every entry it knows; the trail's key and mark must outlive this start for the next one.
  const keeping: KeyStore = {
    get: (account) => store.get(account),
    set: (account, value) => store.set(account, value),
    delete: (account: KeyAccount) => (account === 'audit-key' || account === 'audit-mark' ? Promise.resolve(false) : store.delete(account)),
  };
  const started = performance.now();
  const station = await launchStation({ keyStore: keeping, auditPath, config: { profile: 'gcm', station: { id: 'bench-station' } } });
  try {
    const cardId = station.operator.getByRole('textbox', { name: 'Card ID' });
    await cardId.waitFor();
    while (!(await cardId.isEnabled())) await new Promise((done) => setTimeout(done, 5));
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ ms })}\n`);
  } finally {
    await station.close();
  }
}

if (process.argv[2] === CHILD_FLAG && resolve(process.argv[1] ?? '') === THIS_FILE) {
  child(process.argv[3] ?? '{}').then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
