/**
 * `npm run bench`: the figures of docs/architecture.md, "Budgets", and a few informational
 * ones, each next to its budget. Importable (the smoke test runs it in-process
 * with quick parameters); scripts/bench/run.ts is the command-line entry.
 */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { audioRows, runAudioBench } from './audio';
import { PERSON_KEY_INTERVAL_MS, runBrowserBench } from './browser';
import type { BrowserResult } from './browser';
import { PROFILES, runCryptoBench } from './crypto';
import type { CryptoResult } from './crypto';
import { inPrivateKeyring, runKeychainBench } from './keychain';
import type { KeychainResult } from './keychain';
import { runPipelineBench } from './pipeline';
import type { PipelineResult } from './pipeline';
import { BUDGETS, formatValue, naRow, padPressToDomBudget, row } from './report';
import type { Row } from './report';
import { runShippingBench } from './shipping';
import type { ShippingResult } from './shipping';
import { runStartupBench, startupRows } from './startup';
import type { StartupResult } from './startup';
import { pageSizes, preloadSize } from './sizes';
import type { AssetSize, PageName, PageSizes } from './sizes';
import type { Summary } from './stats';

export interface BenchOptions {
  readonly quick: boolean;
  /** Pipeline/fetch comparison repeats (fresh core, sandbox and keychain service each). */
  readonly runs: number;
  readonly pipelineN: number;
  readonly pipelineWarmup: number;
  readonly cryptoRoundMs: number;
  readonly cryptoRounds: number;
  readonly keychainN: number;
  readonly pageLoads: number;
  readonly presses: number;
  /** Audit shipping: records already in the trail when each station starts, and rounds of the three conditions. */
  readonly shippingBacklog: number;
  readonly shippingRounds: number;
  /** Start-up: trail lengths in records, each started twice (first start, normal start). */
  readonly startupTrails: readonly number[];
  /** Write a CPU profile of an extra (unreported) pipeline run here. */
  readonly cpuProfilePath: string | null;
}

export const FULL_OPTIONS: BenchOptions = {
  quick: false,
  runs: 3,
  pipelineN: 300,
  pipelineWarmup: 20,
  cryptoRoundMs: 400,
  cryptoRounds: 5,
  keychainN: 300,
  pageLoads: 10,
  presses: 200,
  shippingBacklog: 20_000,
  shippingRounds: 3,
  startupTrails: [1, 10_000, 100_000, 1_000_000],
  cpuProfilePath: null,
};

/** Same code paths, small numbers: for the smoke test and a fast look. */
export const QUICK_OPTIONS: BenchOptions = {
  quick: true,
  runs: 1,
  pipelineN: 20,
  pipelineWarmup: 3,
  cryptoRoundMs: 40,
  cryptoRounds: 2,
  keychainN: 20,
  pageLoads: 2,
  presses: 12,
  shippingBacklog: 2_000,
  shippingRounds: 1,
  startupTrails: [1, 2_000],
  cpuProfilePath: null,
};

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly osRelease: string;
  readonly node: string;
  readonly chromium: string | null;
  readonly privateKeyring: boolean;
  /** 1-minute load average before and after the run: other work on the machine shows up as noise. */
  readonly loadAverage: { readonly before: number; readonly after: number };
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly rows: readonly Row[];
  readonly sections: {
    readonly pipeline: PipelineResult | null;
    readonly crypto: CryptoResult | null;
    readonly keychain: KeychainResult | null;
    readonly sizes: Partial<Record<PageName, PageSizes>>;
    readonly preload: Partial<Record<PageName, AssetSize | null>>;
    readonly browser: BrowserResult | null;
    readonly shipping: ShippingResult | null;
    readonly startup: StartupResult | null;
  };
  readonly errors: Readonly<Record<string, string>>;
  readonly summary: {
    readonly budgets: number;
    readonly passed: number;
    readonly failed: number;
    readonly notMeasured: number;
    /** 0 all budgets pass, 1 a budget is broken, 2 a budget could not be measured (none broken). */
    readonly exitCode: number;
  };
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;
const pct = (s: Summary, unit: 'ms'): string => `p50 ${formatValue(s.p50, unit)} · p95 ${formatValue(s.p95, unit)} · p99 ${formatValue(s.p99, unit)} · max ${formatValue(s.max, unit)} (n=${s.n})`;

const ordinal = (n: number): string => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;

async function attempt<T>(name: string, errors: Record<string, string>, work: () => Promise<T> | T): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    errors[name] = message(error);
    return null;
  }
}

export async function runBench(options: BenchOptions, progress: (line: string) => void = () => undefined): Promise<BenchResults> {
  const errors: Record<string, string> = {};
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const keyring = inPrivateKeyring();
  const noKeyring = 'not inside scripts/with-test-keyring.sh: the benchmark reads only a private, throw-away keychain';

  progress(`set_pin pipeline: ${options.runs} run(s) x ${options.pipelineN} operations per variant (+${options.pipelineWarmup} warm-up)`);
  const pipeline = keyring
    ? await attempt('pipeline', errors, () =>
        runPipelineBench({ n: options.pipelineN, warmup: options.pipelineWarmup, runs: options.runs, cpuProfilePath: options.cpuProfilePath, progress }),
      )
    : ((errors.pipeline = noKeyring), null);

  progress(`encryption: ${options.cryptoRounds} round(s) of ${options.cryptoRoundMs} ms per implementation and profile`);
  const crypto = await attempt('crypto', errors, () => runCryptoBench({ roundMs: options.cryptoRoundMs, rounds: options.cryptoRounds }));

  progress(`keychain: ${options.keychainN} reads`);
  const keychain = keyring ? await attempt('keychain', errors, () => runKeychainBench({ n: options.keychainN, warmup: 10 })) : ((errors.keychain = noKeyring), null);

  progress(`chromium: ${options.pageLoads} loads per page, ${options.presses} key presses`);
  const browser = keyring
    ? await attempt('browser', errors, () => runBrowserBench({ loads: options.pageLoads, presses: options.presses, progress }))
    : ((errors.browser = `${noKeyring} (launchStation provisions keys)`), null);

  progress(`audit shipping: ${options.shippingRounds} round(s) x (none, collector up, collector down, RELP up, stalled, down) x ${options.presses} key presses, backlog ${options.shippingBacklog}`);
  const shipping = keyring
    ? await attempt('shipping', errors, () =>
        runShippingBench({ presses: options.presses, rounds: options.shippingRounds, backlog: options.shippingBacklog, progress }),
      )
    : ((errors.shipping = noKeyring), null);

  progress(`start-up: trails of ${options.startupTrails.join(', ')} records, two starts each; audit verify and export on the longest`);
  const startup = keyring ? await attempt('startup', errors, () => runStartupBench({ trails: options.startupTrails, progress })) : ((errors.startup = noKeyring), null);

  const sizes: Partial<Record<PageName, PageSizes>> = {};
  const preload: Partial<Record<PageName, AssetSize | null>> = {};
  for (const page of ['pinpad', 'operator'] as const) {
    const measured = await attempt(`sizes.${page}`, errors, () => pageSizes(page, browser?.pages[page].loadedAssets ?? []));
    if (measured) sizes[page] = measured;
    preload[page] = preloadSize(page);
  }

  const audioStarts = options.quick ? 3 : 20;
  progress(`audio guidance: ${audioStarts} starts`);
  const audio = keyring ? await attempt('audio', errors, () => runAudioBench({ starts: audioStarts, progress })) : ((errors.audio = noKeyring), null);

  const rows = [...buildRows({ options, pipeline, crypto, keychain, browser, shipping, sizes, preload, errors }), ...audioRows(audio, errors.audio, audioStarts)];
  rows.push(...startupRows(startup, options.startupTrails, errors.startup));
  const budgeted = rows.filter((r) => r.budget !== null);
  const failed = budgeted.filter((r) => r.verdict === 'fail').length;
  const notMeasured = budgeted.filter((r) => r.verdict === 'n/a').length;
  const cpu = cpus();
  return {
    generatedAt: new Date().toISOString(),
    options,
    machine: {
      cpuModel: cpu[0]?.model ?? 'unknown',
      cpuCount: cpu.length,
      totalMemoryBytes: totalmem(),
      platform: platform(),
      osRelease: release(),
      node: process.version,
      chromium: browser?.chromiumVersion ?? null,
      privateKeyring: keyring,
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
    },
    rows,
    sections: { pipeline, crypto, keychain, sizes, preload, browser, shipping, startup },
    errors,
    summary: {
      budgets: budgeted.length,
      passed: budgeted.filter((r) => r.verdict === 'pass').length,
      failed,
      notMeasured,
      exitCode: failed > 0 ? 1 : notMeasured > 0 ? 2 : 0,
    },
  };
}

interface RowInputs {
  readonly options: BenchOptions;
  readonly pipeline: PipelineResult | null;
  readonly crypto: CryptoResult | null;
  readonly keychain: KeychainResult | null;
  readonly browser: BrowserResult | null;
  readonly shipping: ShippingResult | null;
  readonly sizes: Partial<Record<PageName, PageSizes>>;
  readonly preload: Partial<Record<PageName, AssetSize | null>>;
  readonly errors: Readonly<Record<string, string>>;
}

function buildRows(input: RowInputs): Row[] {
  const { options, pipeline, crypto, keychain, browser, shipping, sizes, preload, errors } = input;
  const rows: Row[] = [];

  // 1. set_pin pipeline
  {
    const section = `set_pin pipeline, IPC submit -> request on the wire (default profile public-key, and gcm; loopback; N=${options.pipelineN} per variant x ${options.runs} run(s), interleaved)`;
    const why = errors.pipeline ?? 'not run';
    const spreadOpts = (s: { min: number; max: number; values: readonly number[] }) => ({ min: s.min, max: s.max, runs: s.values.length });
    const reference = 'fresh-connection POST + one keychain read + one durable 300 B append';
    if (pipeline) {
      const p = pipeline.pooled;
      const run0 = pipeline.runs[0];
      rows.push(
        row({ id: 'pipeline.p50', section, label: 'pipeline, public-key (default): IPC submit -> body at the sandbox, p50', value: p.pipeline.p50, unit: 'ms', detail: pct(p.pipeline, 'ms'), budget: null }),
        row({ id: 'pipelineGcm.p50', section, label: 'pipeline, gcm: IPC submit -> body at the sandbox, p50', value: p.pipelineGcm.p50, unit: 'ms', detail: pct(p.pipelineGcm, 'ms'), budget: null }),
        row({ id: 'fetchFresh.p50', section, label: 'bare fetch, fresh connection (connection: close) p50', value: p.fetchFresh.p50, unit: 'ms', detail: pct(p.fetchFresh, 'ms'), budget: null }),
        row({ id: 'fetchKeepAlive.p50', section, label: 'bare fetch, keep-alive connection p50', value: p.fetchKeepAlive.p50, unit: 'ms', detail: pct(p.fetchKeepAlive, 'ms'), budget: null }),
        row({ id: 'keychainRead.p50', section, label: 'bare keychain read (same service, interleaved) p50', value: p.keychainRead.p50, unit: 'ms', detail: pct(p.keychainRead, 'ms'), budget: null }),
        row({ id: 'durableAppend.p50', section, label: 'bare durable append (300 B line, write + fdatasync, file held open) p50', value: p.durableAppend.p50, unit: 'ms', detail: pct(p.durableAppend, 'ms'), budget: null }),
        row({
          id: 'pipeline.ratioReference.p50',
          section,
          label: `ratio pipeline public-key (default) / (${reference}), p50`,
          value: pipeline.ratioReference.p50.median,
          spread: spreadOpts(pipeline.ratioReference.p50),
          unit: 'x',
          budget: BUDGETS.pipelineRatio,
          detail:
            'the budget applies to the default profile (public-key). The station reads its keys per operation, writes its attempt record durably before sending and opens a fresh connection per call by design, so the reference is those three done bare, each interleaved with the pipeline; value = median of the per-run ratios [min-max over runs]',
        }),
        row({
          id: 'pipelineGcm.ratioReference.p50',
          section,
          label: `ratio pipeline gcm / (${reference}), p50`,
          value: pipeline.ratioReferenceGcm.p50.median,
          spread: spreadOpts(pipeline.ratioReferenceGcm.p50),
          unit: 'x',
          budget: null,
          detail: `same reference; informational (a symmetric profile, not the default). Bodies: public-key ${run0?.bodyBytes ?? '?'} B (the bare POSTs send this size), gcm ${run0?.bodyBytesGcm ?? '?'} B`,
        }),
        row({ id: 'pipeline.ratioReference.p95', section, label: `ratio pipeline public-key / (${reference}), p95`, value: pipeline.ratioReference.p95.median, spread: spreadOpts(pipeline.ratioReference.p95), unit: 'x', budget: null }),
        row({ id: 'pipeline.ratioBaseline.p50', section, label: 'ratio pipeline public-key / (fresh-connection fetch + one keychain read), p50', value: pipeline.ratioBaseline.p50.median, spread: spreadOpts(pipeline.ratioBaseline.p50), unit: 'x', budget: null, detail: 'the older reference, without the durable append' }),
        row({ id: 'pipeline.ratioFresh.p50', section, label: 'ratio pipeline / fresh-connection fetch alone, p50', value: pipeline.ratioFresh.p50.median, spread: spreadOpts(pipeline.ratioFresh.p50), unit: 'x', budget: null }),
        row({ id: 'pipeline.ratioFresh.p95', section, label: 'ratio pipeline / fresh-connection fetch alone, p95', value: pipeline.ratioFresh.p95.median, spread: spreadOpts(pipeline.ratioFresh.p95), unit: 'x', budget: null }),
        row({ id: 'pipeline.ratioFresh.p99', section, label: 'ratio pipeline / fresh-connection fetch, p99', value: pipeline.ratioFresh.p99.median, spread: spreadOpts(pipeline.ratioFresh.p99), unit: 'x', budget: null, note: `p99 of ${options.pipelineN} samples per run is the ${ordinal(options.pipelineN - Math.ceil(0.99 * options.pipelineN) + 1)}-slowest: shown, not budgeted` }),
        row({ id: 'pipeline.ratioKeepAlive.p50', section, label: 'ratio pipeline / keep-alive fetch, p50', value: pipeline.ratioKeepAlive.p50.median, spread: spreadOpts(pipeline.ratioKeepAlive.p50), unit: 'x', budget: null }),
        row({ id: 'pipeline.ratioKeepAlive.p95', section, label: 'ratio pipeline / keep-alive fetch, p95', value: pipeline.ratioKeepAlive.p95.median, spread: spreadOpts(pipeline.ratioKeepAlive.p95), unit: 'x', budget: null }),
        row({
          id: 'pipeline.keychainInWindow.p50',
          section,
          label: 'of which waiting on keychain reads (wall clock), p50',
          value: pipeline.pooledKeychainInWindowMs.p50,
          unit: 'ms',
          budget: null,
          detail: `${run0 ? run0.keychainRoundTripsPerOp.toFixed(2) : '?'} keychain round trips, ${run0 ? run0.keychainReadsPerOp.toFixed(2) : '?'} entries per operation (public-key: api-token only, the processor's public key being the one Start read and checked; gcm: pin-key and api-token, read concurrently; audit-key is held for the signed-in session); ${pct(pipeline.pooledKeychainInWindowMs, 'ms')}`,
        }),
        row({
          id: 'pipeline.withoutKeychain.ratioFresh.p50',
          section,
          label: 'pipeline minus its keychain reads / fresh fetch, p50',
          value: pipeline.ratioWithoutKeychainFresh.median,
          spread: spreadOpts(pipeline.ratioWithoutKeychainFresh),
          unit: 'x',
          budget: null,
          detail: `per operation, total minus its own keychain time (encryption, station code, HTTP): ${pct(pipeline.pooledWithoutKeychainMs, 'ms')}`,
        }),
        row({
          id: 'pipeline.connectionsPerOp',
          section,
          label: 'connections accepted per operation: pipeline',
          value: run0?.connectionsPerOp.pipeline ?? null,
          unit: 'count',
          budget: null,
          detail: run0
            ? `fresh fetch ${run0.connectionsPerOp.fetchFresh.toFixed(2)}, keep-alive fetch ${run0.connectionsPerOp.fetchKeepAlive.toFixed(2)} (run 1); request body ${run0.bodyBytes} B for the public-key pipeline and the bare POSTs, ${run0.bodyBytesGcm} B for gcm`
            : undefined,
        }),
      );
    } else {
      rows.push(
        naRow({ id: 'pipeline.p50', section, label: 'pipeline p50', unit: 'ms', budget: null }, why),
        naRow({ id: 'pipeline.ratioReference.p50', section, label: `ratio pipeline public-key (default) / (${reference}), p50`, unit: 'x', budget: BUDGETS.pipelineRatio }, why),
      );
    }
  }

  // 2. encryption
  {
    const section = `encryption per profile: node-forge (main/crypto) vs node:crypto (${options.cryptoRounds} rounds of ${options.cryptoRoundMs} ms; informational)`;
    for (const profile of PROFILES) {
      const result = crypto?.profiles[profile];
      if (!result) {
        rows.push(naRow({ id: `crypto.${profile}`, section, label: `${profile}: node:crypto / node-forge speed`, unit: 'x', budget: null }, errors.crypto ?? 'not run'));
        continue;
      }
      rows.push(
        row({
          id: `crypto.${profile}.ratio`,
          section,
          label: `${profile}: node:crypto / node-forge speed`,
          value: result.ratio.median,
          spread: { min: result.ratio.min, max: result.ratio.max, runs: result.ratio.values.length },
          unit: 'x',
          budget: null,
          detail: `node-forge ${formatValue(result.forgeOpsPerSec, 'ops/s')} (${formatValue(result.forgeMsPerOp, 'ms')}/op) · node:crypto ${formatValue(result.nodeOpsPerSec, 'ops/s')} (${formatValue(result.nodeMsPerOp, 'ms')}/op)`,
        }),
      );
    }
    // The two profiles side by side: what choosing the processor's public key over a shared gcm key costs per PIN.
    const publicKey = crypto?.profiles['public-key'];
    const gcm = crypto?.profiles.gcm;
    if (publicKey && gcm) {
      rows.push(
        row({
          id: 'crypto.publicKeyVsGcm',
          section,
          label: 'public-key / gcm: time per PIN encryption (node-forge, as the station runs it)',
          value: publicKey.forgeMsPerOp / gcm.forgeMsPerOp,
          unit: 'x',
          budget: null,
          detail: `public-key ${formatValue(publicKey.forgeMsPerOp, 'ms')}/op vs gcm ${formatValue(gcm.forgeMsPerOp, 'ms')}/op: ${formatValue(publicKey.forgeMsPerOp - gcm.forgeMsPerOp, 'ms')} more per PIN`,
        }),
      );
    } else {
      rows.push(
        naRow(
          { id: 'crypto.publicKeyVsGcm', section, label: 'public-key / gcm: time per PIN encryption (node-forge, as the station runs it)', unit: 'x', budget: null },
          errors.crypto ?? 'not run',
        ),
      );
    }
  }

  // 3. keychain
  {
    const section = `keychain read (KeytarKeyStore.get, private Secret Service; N=${options.keychainN})`;
    if (keychain) {
      rows.push(
        row({ id: 'keychain.read.p50', section, label: 'read latency p50', value: keychain.readMs.p50, unit: 'ms', budget: null }),
        row({ id: 'keychain.read.p99', section, label: 'read latency p99', value: keychain.readMs.p99, unit: 'ms', budget: null, detail: pct(keychain.readMs, 'ms') }),
      );
    } else {
      const why = errors.keychain ?? 'not run';
      rows.push(
        naRow({ id: 'keychain.read.p50', section, label: 'read latency p50', unit: 'ms', budget: null }, why),
        naRow({ id: 'keychain.read.p99', section, label: 'read latency p99', unit: 'ms', budget: null }, why),
      );
    }
  }

  // 4. pages in Chromium
  const browserWhy = errors.browser ?? 'not run';
  for (const page of ['pinpad', 'operator'] as const) {
    const isPad = page === 'pinpad';
    const section = isPad
      ? `PIN pad page in Debian Chromium ${browser?.chromiumVersion ?? ''} (${options.pageLoads} loads, ${options.presses} key presses)`.replace('  ', ' ')
      : `operator page in Debian Chromium (${options.pageLoads} loads; no budgets, informational)`;
    const size = sizes[page];
    const files = (kind: 'js' | 'css'): string =>
      (size?.assets ?? []).filter((a) => a.kind === kind).map((a) => `${a.file} ${formatValue(a.gzipBytes, 'B')}${a.loading === 'lazy' ? ' (lazy)' : ''}`).join(', ');
    if (size) {
      rows.push(
        row({ id: `${page}.js.gzip`, section, label: 'JS, gzip (out/renderer assets the page loads)', value: size.jsGzipBytes, unit: 'B', budget: isPad ? BUDGETS.padJsGzip : null, detail: `raw ${formatValue(size.jsRawBytes, 'B')}; before the page runs ${formatValue(size.staticJsGzipBytes, 'B')}, the rest loaded on demand (every language counted); ${files('js')}` }),
        row({ id: `${page}.css.gzip`, section, label: 'CSS, gzip', value: size.cssGzipBytes, unit: 'B', budget: null, detail: `raw ${formatValue(size.cssRawBytes, 'B')}; ${files('css')}` }),
      );
    } else {
      const why = errors[`sizes.${page}`] ?? 'not run';
      rows.push(
        naRow({ id: `${page}.js.gzip`, section, label: 'JS, gzip (out/renderer assets the page loads)', unit: 'B', budget: isPad ? BUDGETS.padJsGzip : null }, why),
        naRow({ id: `${page}.css.gzip`, section, label: 'CSS, gzip', unit: 'B', budget: null }, why),
      );
    }
    const pre = preload[page];
    if (pre) rows.push(row({ id: `${page}.preload.gzip`, section, label: `preload bundle out/preload/${page}.cjs, gzip`, value: pre.gzipBytes, unit: 'B', budget: null, detail: `raw ${formatValue(pre.rawBytes, 'B')}; runs before the page, not a renderer asset` }));

    const loads = browser?.pages[page];
    if (loads) {
      rows.push(
        row({
          id: `${page}.interactive.p50`,
          section,
          label: isPad ? 'navigation -> keypad interactive (painted), median' : 'navigation -> form interactive (painted), median',
          value: loads.ttiMs.p50,
          unit: 'ms',
          budget: isPad ? BUDGETS.padInteractive : null,
          detail: `max ${formatValue(loads.ttiMs.max, 'ms')} · in DOM and enabled p50 ${formatValue(loads.readyMs.p50, 'ms')} · first load ${formatValue(loads.firstLoad.paintedMs, 'ms')}`,
          note: 'files come through the harness (Playwright route handler) and the first state through a CDP binding, where the app uses app:// and Electron IPC',
        }),
      );
    } else {
      rows.push(naRow({ id: `${page}.interactive.p50`, section, label: 'navigation -> interactive (painted), median', unit: 'ms', budget: isPad ? BUDGETS.padInteractive : null }, browserWhy));
    }
    if (isPad) {
      const presses = browser?.presses;
      const backToBack = browser?.pressesBackToBack;
      if (presses && backToBack) {
        rows.push(
          row({ id: 'pinpad.press.p50', section, label: 'key press -> dot painted p50', value: presses.paintedMs.p50, unit: 'ms', budget: null }),
          row({
            id: 'pinpad.pressDom.p95',
            section,
            label: 'key press -> DOM updated p95',
            value: presses.domMs.p95,
            unit: 'ms',
            budget: padPressToDomBudget(presses.ipcRoundTripMs.p95),
            detail: `p50 ${formatValue(presses.domMs.p50, 'ms')} · budget: harness IPC round trip p95 ${formatValue(presses.ipcRoundTripMs.p95, 'ms')} (same run, one after each press) + 3 ms`,
          }),
          row({
            id: 'pinpad.press.p95',
            section,
            label: `key press -> dot painted p95 (presses >= ${PERSON_KEY_INTERVAL_MS} ms apart, a person's pace)`,
            value: presses.paintedMs.p95,
            unit: 'ms',
            budget: BUDGETS.padPressToDot,
            detail: `IPC here: CDP exposeBinding + page.evaluate · press -> next frame's rAF p95 ${formatValue(presses.frameMs.p95, 'ms')}`,
          }),
          row({
            id: 'pinpad.pressBackToBack.p95',
            section,
            label: 'key press -> dot painted p95, presses back to back (about 30 a second)',
            value: backToBack.paintedMs.p95,
            unit: 'ms',
            budget: null,
            detail: `press -> DOM p95 ${formatValue(backToBack.domMs.p95, 'ms')} · press -> next frame's rAF p95 ${formatValue(backToBack.frameMs.p95, 'ms')}`,
            note: 'with frames coming continuously Chromium draws on its 60 Hz clock, so each press also waits for the next tick',
          }),
          row({
            id: 'pinpad.ipcRoundTrip.p50',
            section,
            label: 'harness IPC round trip (window.pinpad.getState), p50',
            value: presses.ipcRoundTripMs.p50,
            unit: 'ms',
            budget: null,
            detail: `p95 ${formatValue(presses.ipcRoundTripMs.p95, 'ms')}, one after each press; a press needs one such call plus the state push back (page.evaluate)`,
          }),
          row({
            id: 'pinpad.press.noFrameWait.p95',
            section,
            label: 'same, minus the wait for the next 60 Hz frame, p95',
            value: presses.paintedWithoutFrameWaitMs.p95,
            unit: 'ms',
            budget: null,
            note: 'presses start at a random point of the frame; the painted figure includes any wait for the next frame',
          }),
        );
      } else {
        rows.push(
          naRow({ id: 'pinpad.pressDom.p95', section, label: 'key press -> DOM updated p95', unit: 'ms', budget: padPressToDomBudget(null) }, browserWhy),
          naRow({ id: 'pinpad.press.p95', section, label: 'key press -> dot painted p95', unit: 'ms', budget: BUDGETS.padPressToDot }, browserWhy),
        );
      }
    }
  }
  // Audit shipping next to PIN entry
  const RELP_ROWS = [
    ['up', 'up (imrelp, TLS with the station certificate), taking the backlog'],
    ['stalled', 'stalled (SIGSTOP while sending: connection up, no answers)'],
    ['down', 'down (reconnecting with backoff)'],
  ] as const;
  {
    const section = `audit shipping and PIN entry: key press -> DOM updated, ${options.shippingRounds} round(s) x ${options.presses} presses per condition, interleaved; backlog ${options.shippingBacklog} records`;
    const why = errors.shipping ?? 'not run';
    if (shipping) {
      const { none, up, down } = shipping.domMs;
      rows.push(
        row({ id: 'shipping.pressDom.none.p95', section, label: 'no shipping configured, p95', value: none.p95, unit: 'ms', budget: null, detail: pct(none, 'ms') }),
        row({
          id: 'shipping.pressDom.up.p95',
          section,
          label: 'collector up (rsyslogd, TLS, loopback), taking the backlog, p95',
          value: up.p95,
          unit: 'ms',
          budget: null,
          detail: `${pct(up, 'ms')} · ${shipping.shippedDuringPresses} records reached the collector from the last such station (its backlog included)`,
        }),
        row({ id: 'shipping.pressDom.down.p95', section, label: 'collector down (reconnecting with backoff), p95', value: down.p95, unit: 'ms', budget: null, detail: pct(down, 'ms') }),
        row({ id: 'shipping.ratioUp.p95', section, label: 'ratio collector up / no shipping, p95', value: up.p95 / none.p95, unit: 'x', budget: BUDGETS.shippingPressRatio }),
        row({ id: 'shipping.ratioDown.p95', section, label: 'ratio collector down / no shipping, p95', value: down.p95 / none.p95, unit: 'x', budget: BUDGETS.shippingPressRatio }),
      );
      const relp = { up: shipping.domMs['relp-up'], stalled: shipping.domMs['relp-stalled'], down: shipping.domMs['relp-down'] };
      for (const [state, label] of RELP_ROWS) {
        const summary = relp[state];
        rows.push(
          row({
            id: `shipping.relp.pressDom.${state}.p95`,
            section,
            label: `RELP collector ${label}, p95`,
            value: summary.p95,
            unit: 'ms',
            budget: null,
            detail: state === 'up' ? `${pct(summary, 'ms')} · ${shipping.relpShippedDuringPresses} records reached the collector from the last such station` : pct(summary, 'ms'),
          }),
          row({ id: `shipping.relp.ratio.${state}.p95`, section, label: `ratio RELP collector ${state} / no shipping, p95`, value: summary.p95 / none.p95, unit: 'x', budget: BUDGETS.shippingPressRatio }),
        );
      }
    } else {
      rows.push(
        naRow({ id: 'shipping.ratioUp.p95', section, label: 'ratio collector up / no shipping, p95', unit: 'x', budget: BUDGETS.shippingPressRatio }, why),
        naRow({ id: 'shipping.ratioDown.p95', section, label: 'ratio collector down / no shipping, p95', unit: 'x', budget: BUDGETS.shippingPressRatio }, why),
        ...RELP_ROWS.map(([state]) =>
          naRow({ id: `shipping.relp.ratio.${state}.p95`, section, label: `ratio RELP collector ${state} / no shipping, p95`, unit: 'x', budget: BUDGETS.shippingPressRatio }, why),
        ),
      );
    }
  }
  return rows;
}

/** results.json: every figure without the raw per-operation samples (their summaries are kept). */
export function resultsJson(results: BenchResults): string {
  return JSON.stringify(results, (key, value: unknown) => (key.endsWith('SamplesMs') || key === 'samplesMs' ? undefined : value), 2);
}
