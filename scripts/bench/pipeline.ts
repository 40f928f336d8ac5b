/**
 * set_pin pipeline benchmark: from the pad's final OK (the IPC submit, as the
 * router receives it) to the moment the sandbox processor has the request body
 * in hand — keychain reads (real keytar / private Secret Service), node-forge
 * encryption and a fresh HTTP connection included — against bare `fetch` POSTs
 * of an equally sized body to the same server, interleaved one-for-one.
 *
 * Baselines (each with a dispatcher of its own, so they never share a socket):
 * - `fetch (fresh connection)`: an undici Agent with pipelining 0 (no
 *   keep-alive) and `connection: close`, so every request opens its own TCP
 *   connection, as CardApiClient does by design (http.Agent keepAlive false: a
 *   reused idle socket the server just closed would turn a clean failure into
 *   "outcome unknown"). This is the budget's reference: it asks what the
 *   station adds on top of the same network work.
 * - `fetch (keep-alive)`: a default undici Agent reusing one pooled
 *   connection; shown so the data says how much of the total is connection
 *   set-up rather than the station.
 * - `keychain read`: one bare keytar read of an entry of the same keychain
 *   service.
 * - `durable append`: one ~300-byte line appended to a file held open and
 *   fdatasynced, as the audit writer writes its write-ahead attempt record.
 * The budget's reference is fresh-connection fetch p50 + keychain read p50 +
 * durable append p50: the least any implementation that reads its keys per
 * operation, records the attempt durably before sending and opens a fresh
 * connection can take. The pipeline runs with the default profile (public-key:
 * a fresh AES key per PIN wrapped with the processor's RSA key, the key from a
 * certificate the sandbox issues) and with gcm, interleaved with the rest; the
 * budget applies to the default profile.
 * The connections the server accepts are counted per variant to check this.
 *
 * Everything runs in this process (the sandbox too) and is timed with
 * performance.now(), so the clocks are the same.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcResult, OperatorView, PinpadView } from '../../common/ipc';
import { AuditLog } from '../../main/core/audit';
import { configSchema } from '../../main/core/config';
import { fileSink, Logger } from '../../main/core/log';
import { createStationCore } from '../../main/core/station-core';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { encryptGcm } from '../../main/crypto/gcm';
import { parseAes256KeyHex } from '../../main/crypto/keys';
import { encryptRsaOaep } from '../../main/crypto/rsa-oaep';
import { issueProcessorCertificate } from '../../sandbox/certificate';
import { SandboxProcessor, SET_PIN_PATH } from '../../sandbox/processor';
import { round, spreadOf, summarize } from './stats';
import type { Spread, Summary } from './stats';
import { roundTrips, TimedKeyStore } from './timed-keystore';
import type { KeyRead } from './timed-keystore';

export interface PipelineOptions {
  /** Measured operations per run (each variant). */
  readonly n: number;
  /** Unmeasured operations per run before measuring (each variant). */
  readonly warmup: number;
  /** Independent runs (fresh station core, sandbox and keychain service each time). */
  readonly runs: number;
  /** When set, a V8 CPU profile of the first run is written here and summarized. */
  readonly cpuProfilePath?: string | null;
  readonly progress?: (line: string) => void;
}

/** `pipeline` runs the default profile (public-key), `pipelineGcm` the gcm profile. */
export type VariantName = 'pipeline' | 'pipelineGcm' | 'fetchFresh' | 'fetchKeepAlive' | 'keychainRead' | 'durableAppend';
const VARIANTS: readonly VariantName[] = ['pipeline', 'fetchFresh', 'pipelineGcm', 'fetchKeepAlive', 'keychainRead', 'durableAppend'];
/** The reference's durable append: about the size of a write-ahead attempt record. */
const APPEND_BYTES = 300;

export interface PipelineRun {
  readonly samplesMs: Readonly<Record<VariantName, readonly number[]>>;
  readonly summaries: Readonly<Record<VariantName, Summary>>;
  /** pipeline ÷ baseline, per percentile. */
  readonly ratioFresh: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly ratioKeepAlive: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** The budget's figure: pipeline p50 ÷ (fresh-connection fetch + bare keychain read + durable append), p50 each. */
  readonly ratioReference: { readonly p50: number; readonly p95: number };
  /** The same for the gcm profile (informational). */
  readonly ratioReferenceGcm: { readonly p50: number; readonly p95: number };
  /** The older reference without the durable append: pipeline p50 ÷ (fresh-connection fetch p50 + bare keychain read p50). */
  readonly ratioBaseline: { readonly p50: number; readonly p95: number };
  /** Connections the server accepted per measured operation, per variant (checks the fresh/keep-alive premise). */
  readonly connectionsPerOp: Readonly<Record<'pipeline' | 'fetchFresh' | 'fetchKeepAlive', number>>;
  /** Time spent in keychain reads inside the submit -> wire window of each pipeline operation. */
  readonly keychainInWindowMs: Summary;
  readonly keychainInWindowSamplesMs: readonly number[];
  /** Each pipeline operation minus its own keychain time: encryption, the station's code and the HTTP request. */
  readonly withoutKeychainMs: Summary;
  readonly withoutKeychainSamplesMs: readonly number[];
  readonly ratioWithoutKeychainFresh: number;
  readonly keychainReadsPerOp: number;
  /** Keychain reads issued together count once (the station waits for them once). */
  readonly keychainRoundTripsPerOp: number;
  /** Request body size of the default profile (the fetch baselines send one of this size) and of gcm. */
  readonly bodyBytes: number;
  readonly bodyBytesGcm: number;
}

export interface PipelineResult {
  /** The profile the budget applies to (the default); gcm runs beside it. */
  readonly profile: 'public-key';
  readonly n: number;
  readonly warmup: number;
  readonly runs: readonly PipelineRun[];
  /** Percentiles over the samples of all runs together. */
  readonly pooled: Readonly<Record<VariantName, Summary>>;
  readonly pooledKeychainInWindowMs: Summary;
  readonly pooledWithoutKeychainMs: Summary;
  readonly ratioWithoutKeychainFresh: Spread;
  /** Per-run ratios: median over the runs (the budget figure) and min–max. */
  readonly ratioFresh: { readonly p50: Spread; readonly p95: Spread; readonly p99: Spread };
  readonly ratioKeepAlive: { readonly p50: Spread; readonly p95: Spread; readonly p99: Spread };
  readonly ratioBaseline: { readonly p50: Spread; readonly p95: Spread };
  readonly ratioReference: { readonly p50: Spread; readonly p95: Spread };
  readonly ratioReferenceGcm: { readonly p50: Spread; readonly p95: Spread };
  readonly cpuProfile: CpuProfileSummary | null;
}

export interface CpuProfileSummary {
  readonly path: string;
  readonly totalMs: number;
  readonly topFunctions: readonly { readonly name: string; readonly selfMs: number; readonly share: number }[];
  readonly categories: readonly { readonly name: string; readonly selfMs: number; readonly share: number }[];
}

/** Digits of the benchmark PIN (keys are found by digit in the pad's shuffled layout). */
const PIN: readonly number[] = [1, 3, 5, 7];

/** Length of the union of [start, end] intervals. */
function coveredMs(reads: readonly KeyRead[]): number {
  const sorted = [...reads].sort((a, b) => a.start - b.start);
  let total = 0;
  let end = -Infinity;
  for (const read of sorted) {
    if (read.start > end) {
      total += read.end - read.start;
      end = read.end;
    } else if (read.end > end) {
      total += read.end - end;
      end = read.end;
    }
  }
  return total;
}

function unwrap<T>(result: IpcResult<unknown>, what: string): T {
  if (!result.ok) throw new Error(`${what} failed: ${result.error.code} ${result.error.message}`);
  return result.value as T;
}

function ratios(a: Summary, b: Summary): { p50: number; p95: number; p99: number } {
  return { p50: a.p50 / b.p50, p95: a.p95 / b.p95, p99: a.p99 / b.p99 };
}

interface FetchDispatcher {
  close(): Promise<void>;
}
type AgentClass = new (options?: { pipelining?: number }) => FetchDispatcher;

/**
 * Node's fetch is undici, bundled in Node; its Agent class is not exported, so it
 * is taken from the global dispatcher (set up by the first fetch). No extra package.
 */
async function undiciAgentClass(url: string): Promise<AgentClass> {
  await (await fetch(url)).arrayBuffer();
  const dispatcher = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')] as { constructor?: unknown } | undefined;
  if (typeof dispatcher?.constructor !== 'function') throw new Error("cannot reach undici's Agent through fetch's global dispatcher");
  return dispatcher.constructor as AgentClass;
}

/** Counts TCP connections accepted by any server in this process (the sandbox is the only one). */
function connectionCounter(): { count(): number; dispose(): void } {
  let accepted = 0;
  const onSocket = (): void => void accepted++;
  dc.subscribe('net.server.socket', onSocket);
  return { count: () => accepted, dispose: () => dc.unsubscribe('net.server.socket', onSocket) };
}

/** One station core as the app wires it, with its own keychain service, sandbox processor and audit trail. */
interface BenchStation {
  readonly profile: 'public-key' | 'gcm';
  readonly keyStore: TimedKeyStore;
  readonly sandbox: SandboxProcessor;
  readonly core: ReturnType<typeof createStationCore>;
  readonly baseUrl: string;
  readonly apiToken: string;
  /** Encrypts the benchmark PIN for `cardId` as this profile would (for the bare fetch's body, before the clock). */
  readonly encrypt: (cardId: string) => string;
  readonly dispose: () => void;
}

async function benchStation(profile: 'public-key' | 'gcm', logDir: string, onRequest: (receivedAt: number) => void): Promise<BenchStation> {
  const pinKeyHex = randomBytes(32).toString('hex').toUpperCase();
  const apiToken = `bench-${randomBytes(18).toString('base64url')}`;
  const keyStore = new TimedKeyStore(`pin-station-bench-${randomBytes(6).toString('hex')}`);
  await keyStore.set('api-token', apiToken);
  let privateKeyPem: string | undefined;
  let encrypt: (cardId: string) => string;
  let dispose = (): void => undefined;
  if (profile === 'public-key') {
    // As the sandbox provisions a station: the processor keeps the private key and issues a certificate for the public one.
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const now = Date.now();
    const certificate = issueProcessorCertificate({
      publicKeyPem: pair.publicKey,
      signingKeyPem: pair.privateKey,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 365 * 86_400_000),
    });
    await keyStore.set('pin-public-key', certificate);
    privateKeyPem = pair.privateKey;
    encrypt = (cardId) => encryptRsaOaep(pair.publicKey, Uint8Array.from(PIN), cardId);
  } else {
    await keyStore.set('pin-key', pinKeyHex);
    const key = parseAes256KeyHex(pinKeyHex, 'pin-key');
    encrypt = (cardId) => encryptGcm(key, Uint8Array.from(PIN), cardId);
    dispose = () => key.fill(0);
  }
  const sandbox = new SandboxProcessor(privateKeyPem ? { pinKeyHex, apiToken, privateKeyPem } : { pinKeyHex, apiToken }, { profile, onRequest });
  const baseUrl = await sandbox.start();
  const dir = join(logDir, profile);
  // As in the app: info level, JSON lines appended to a file (the app also echoes them to stdout; that is left out).
  const log = new Logger('info', [fileSink(join(logDir, `station-${profile}.log`))]);
  // The sign-in is set-up, not the measured path: a password alone (no second factor to enrol).
  const config = configSchema.parse({
    profile,
    processor: { baseUrl },
    pin: { sessionTimeoutMs: 1_800_000, inactivityTimeoutMs: 600_000 },
    auth: { mfa: 'off' },
  });
  // A signed-in operator, as at a real desk: Start is refused without one.
  const accounts = new LocalAccountStore(join(logDir, `accounts-${profile}.json`), keyStore);
  const benchPassword = randomBytes(18).toString('base64url');
  await accounts.add({ username: 'bench', roles: ['operator'], password: benchPassword });
  const core = createStationCore({
    config,
    keyStore,
    log,
    // The station's real audit trail: its write-ahead attempt record (one fdatasynced line) is on disk before the
    // request leaves, so it is inside the submit -> wire window measured here, as in the app.
    audit: new AuditLog(join(dir, 'audit', 'audit.jsonl'), keyStore),
    staff: { accounts },
    processorBaseUrl: baseUrl,
    // The Electron adapter serializes each view for webContents.send; structuredClone stands in for that cost.
    views: { operator: (view) => void structuredClone(view), pinpad: (view) => void structuredClone(view) },
  });
  await core.staff.signIn('bench', benchPassword);
  return { profile, keyStore, sandbox, core, baseUrl, apiToken, encrypt, dispose };
}

async function oneRun(options: PipelineOptions, runIndex: number, session: Session | null): Promise<PipelineRun> {
  let pending: ((receivedAt: number) => void) | null = null;
  const onRequest = (receivedAt: number): void => {
    const resolve = pending;
    pending = null;
    resolve?.(receivedAt);
  };
  const logDir = mkdtempSync(join(tmpdir(), 'pin-station-bench-'));
  const stations: BenchStation[] = [];
  const connections = connectionCounter();
  let appendHandle: Awaited<ReturnType<typeof open>> | null = null;
  let dispatchers: { F: FetchDispatcher; K: FetchDispatcher } | null = null;

  const nextRequest = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      if (pending) reject(new Error('a request is already awaited'));
      pending = resolve;
    });

  let serial = 0;
  const cardId = (variant: string): string => `BENCH-${variant}-${String(runIndex).padStart(2, '0')}${String(serial).padStart(6, '0')}`;

  const samples: Record<VariantName, number[]> = { pipeline: [], pipelineGcm: [], fetchFresh: [], fetchKeepAlive: [], keychainRead: [], durableAppend: [] };
  const connectionTotals: Record<VariantName, number> = { pipeline: 0, pipelineGcm: 0, fetchFresh: 0, fetchKeepAlive: 0, keychainRead: 0, durableAppend: 0 };
  const keychainWindow: number[] = [];
  let keychainReads = 0;
  let keychainRoundTrips = 0;
  let bodyBytes = 0;
  let bodyBytesGcm = 0;

  try {
    const main = await benchStation('public-key', logDir, onRequest);
    stations.push(main);
    const gcm = await benchStation('gcm', logDir, onRequest);
    stations.push(gcm);
    const endpoint = new URL(SET_PIN_PATH, main.baseUrl).toString();
    const Agent = await undiciAgentClass(new URL('/', main.baseUrl).toString());
    dispatchers = { F: new Agent({ pipelining: 0 }), K: new Agent() };
    appendHandle = await open(join(logDir, 'append.jsonl'), 'a', 0o600);

    const pressPin = async (station: BenchStation, layout: readonly number[]): Promise<void> => {
      for (const digit of PIN) unwrap(await station.core.router.handle('pinpad', 'pinpad:press', layout.indexOf(digit)), 'pinpad:press');
    };

    let windowKeychainMs = 0;
    let windowKeychainReads = 0;
    let windowKeychainRoundTrips = 0;
    const pipelineOp = async (station: BenchStation): Promise<number> => {
      const { router, station: machine } = station.core;
      const keyStore = station.keyStore;
      const id = cardId(station.profile === 'gcm' ? 'G' : 'P');
      unwrap(await router.handle('operator', 'station:start', { cardId: id, mode: 'customer' }), 'station:start');
      const { layout } = unwrap<PinpadView>(await router.handle('pinpad', 'pinpad:get-state', null), 'pinpad:get-state');
      await pressPin(station, layout);
      unwrap(await router.handle('pinpad', 'pinpad:submit', null), 'pinpad:submit (enter)');
      await pressPin(station, layout);
      const received = nextRequest();
      const readsBefore = keyStore.reads.length;
      const t0 = performance.now();
      const submitted = router.handle('pinpad', 'pinpad:submit', null);
      const t1 = await received;
      unwrap(await submitted, 'pinpad:submit (confirm)');
      await machine.settled();
      const view: OperatorView = machine.operatorView();
      if (view.phase !== 'done' || view.outcome?.requestStatus !== 'pin_set') {
        throw new Error(`${station.profile} pipeline operation ended in ${view.phase} (${view.error?.code ?? view.outcome?.requestStatus ?? '?'})`);
      }
      const inWindow = keyStore.reads.slice(readsBefore).filter((read) => read.start >= t0 && read.end <= t1);
      // Wall-clock time covered by keychain reads: the station reads its entries concurrently, so overlapping reads count once.
      windowKeychainMs = coveredMs(inWindow);
      windowKeychainReads = inWindow.length;
      windowKeychainRoundTrips = roundTrips(inWindow);
      unwrap(await router.handle('operator', 'station:next-card', null), 'station:next-card');
      return t1 - t0;
    };

    const fetchOp = async (variant: 'F' | 'K'): Promise<number> => {
      const id = cardId(variant);
      // An equally sized body: a real public-key ciphertext for a card ID of the same length, made before the clock starts.
      const body = JSON.stringify({ card_id: id, pin: main.encrypt(id) });
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${main.apiToken}`,
      };
      if (variant === 'F') headers.connection = 'close';
      const received = nextRequest();
      const t0 = performance.now();
      const init = { method: 'POST', headers, body, dispatcher: (dispatchers as { F: FetchDispatcher; K: FetchDispatcher })[variant] };
      const response = fetch(endpoint, init as RequestInit);
      const t1 = await received;
      const answer = (await (await response).json()) as { request_status?: string };
      if (answer.request_status !== 'pin_set') throw new Error(`bare fetch answered ${String(answer.request_status)}`);
      return t1 - t0;
    };

    // One bare read of an entry of the same service, through keytar and nothing else.
    const keychainReadOp = async (): Promise<number> => {
      const t0 = performance.now();
      const value = await main.keyStore.get('api-token');
      const t1 = performance.now();
      if (value !== main.apiToken) throw new Error('bare keychain read returned something else');
      return t1 - t0;
    };

    // One durable append of an attempt-sized line to a file held open, as the audit writer does it: write, fdatasync.
    const handle = appendHandle;
    const durableAppendOp = async (): Promise<number> => {
      const line = Buffer.from(`${JSON.stringify({ seq: serial, cardId: cardId('A'), pad: '' })}`.padEnd(APPEND_BYTES - 1, ' ') + '\n', 'utf8');
      const t0 = performance.now();
      await handle.write(line, 0, line.length, null);
      await handle.datasync();
      return performance.now() - t0;
    };

    const ops: Record<VariantName, () => Promise<number>> = {
      pipeline: () => pipelineOp(main),
      pipelineGcm: () => pipelineOp(gcm),
      fetchFresh: () => fetchOp('F'),
      fetchKeepAlive: () => fetchOp('K'),
      keychainRead: keychainReadOp,
      durableAppend: durableAppendOp,
    };

    for (let i = 0; i < options.warmup + options.n; i++) {
      const measured = i >= options.warmup;
      if (measured && i === options.warmup && session) await session.post('Profiler.start');
      // Rotate the order each iteration so no variant always runs first (or right after a GC-heavy one).
      for (let k = 0; k < VARIANTS.length; k++) {
        const variant = VARIANTS[(i + k) % VARIANTS.length] as VariantName;
        serial++;
        const before = connections.count();
        const ms = await ops[variant]();
        if (!measured) continue;
        samples[variant].push(ms);
        connectionTotals[variant] += connections.count() - before;
        if (variant === 'pipeline') {
          keychainWindow.push(windowKeychainMs);
          keychainReads += windowKeychainReads;
          keychainRoundTrips += windowKeychainRoundTrips;
        }
      }
      if (measured && (i - options.warmup + 1) % 100 === 0) options.progress?.(`  pipeline run ${runIndex + 1}: ${i - options.warmup + 1}/${options.n}`);
    }
    // Same body size for every variant sent to one sandbox, or the comparison is off.
    const sizeOf = (sandbox: SandboxProcessor): number => {
      const sizes = new Set(sandbox.requests.map((request) => Buffer.byteLength(request.bodyText)));
      if (sizes.size !== 1) throw new Error(`request bodies differ in size: ${[...sizes].join(', ')} bytes`);
      return [...sizes][0] as number;
    };
    bodyBytes = sizeOf(main.sandbox);
    bodyBytesGcm = sizeOf(gcm.sandbox);
  } finally {
    connections.dispose();
    await appendHandle?.close();
    if (dispatchers) await Promise.all([dispatchers.F.close(), dispatchers.K.close()]);
    for (const station of stations) {
      station.dispose();
      await station.core.close();
      await station.sandbox.stop();
      for (const account of ['pin-key', 'pin-public-key', 'api-token', 'audit-key', 'audit-mark', 'staff-key', 'staff-generation', 'staff-mfa-key'] as const) {
        await station.keyStore.delete(account).catch(() => false);
      }
    }
    rmSync(logDir, { recursive: true, force: true });
  }

  const withoutKeychain = samples.pipeline.map((ms, i) => ms - (keychainWindow[i] as number));
  const summaries = {
    pipeline: summarize(samples.pipeline),
    pipelineGcm: summarize(samples.pipelineGcm),
    fetchFresh: summarize(samples.fetchFresh),
    fetchKeepAlive: summarize(samples.fetchKeepAlive),
    keychainRead: summarize(samples.keychainRead),
    durableAppend: summarize(samples.durableAppend),
  };
  const reference = (p: 'p50' | 'p95'): number => summaries.fetchFresh[p] + summaries.keychainRead[p] + summaries.durableAppend[p];
  return {
    samplesMs: samples,
    summaries,
    ratioFresh: ratios(summaries.pipeline, summaries.fetchFresh),
    ratioKeepAlive: ratios(summaries.pipeline, summaries.fetchKeepAlive),
    ratioReference: { p50: summaries.pipeline.p50 / reference('p50'), p95: summaries.pipeline.p95 / reference('p95') },
    ratioReferenceGcm: { p50: summaries.pipelineGcm.p50 / reference('p50'), p95: summaries.pipelineGcm.p95 / reference('p95') },
    ratioBaseline: {
      p50: summaries.pipeline.p50 / (summaries.fetchFresh.p50 + summaries.keychainRead.p50),
      p95: summaries.pipeline.p95 / (summaries.fetchFresh.p95 + summaries.keychainRead.p95),
    },
    connectionsPerOp: {
      pipeline: connectionTotals.pipeline / options.n,
      fetchFresh: connectionTotals.fetchFresh / options.n,
      fetchKeepAlive: connectionTotals.fetchKeepAlive / options.n,
    },
    keychainInWindowMs: summarize(keychainWindow),
    keychainInWindowSamplesMs: keychainWindow,
    withoutKeychainMs: summarize(withoutKeychain),
    withoutKeychainSamplesMs: withoutKeychain,
    ratioWithoutKeychainFresh: summarize(withoutKeychain).p50 / summaries.fetchFresh.p50,
    keychainReadsPerOp: keychainReads / options.n,
    keychainRoundTripsPerOp: keychainRoundTrips / options.n,
    bodyBytes,
    bodyBytesGcm,
  };
}

export async function runPipelineBench(options: PipelineOptions): Promise<PipelineResult> {
  if (options.n < 1 || options.runs < 1) throw new Error('pipeline: n and runs must be at least 1');
  const runs: PipelineRun[] = [];
  for (let r = 0; r < options.runs; r++) {
    const run = await oneRun(options, r, null);
    runs.push(run);
    options.progress?.(
      `  pipeline run ${r + 1}/${options.runs}: public-key p50 ${run.summaries.pipeline.p50.toFixed(3)} ms, gcm ${run.summaries.pipelineGcm.p50.toFixed(3)} ms vs fresh-connection fetch ${run.summaries.fetchFresh.p50.toFixed(3)} ms + keychain read ${run.summaries.keychainRead.p50.toFixed(3)} ms + durable append ${run.summaries.durableAppend.p50.toFixed(3)} ms (x${run.ratioReference.p50.toFixed(2)}, gcm x${run.ratioReferenceGcm.p50.toFixed(2)})`,
    );
  }
  // The profiled run is an extra one, left out of the figures: sampling slows what it watches.
  let cpuProfile: CpuProfileSummary | null = null;
  if (options.cpuProfilePath) {
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await oneRun(options, options.runs, session);
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(options.cpuProfilePath, JSON.stringify(profile));
      cpuProfile = summarizeProfile(profile as unknown as CpuProfile, options.cpuProfilePath);
    } finally {
      session.disconnect();
    }
  }
  const pool = (variant: VariantName): Summary => summarize(runs.flatMap((run) => run.samplesMs[variant]));
  const ratioSpread = (pick: (run: PipelineRun) => number): Spread => spreadOf(runs.map(pick));
  return {
    profile: 'public-key',
    n: options.n,
    warmup: options.warmup,
    runs,
    pooled: {
      pipeline: pool('pipeline'),
      pipelineGcm: pool('pipelineGcm'),
      fetchFresh: pool('fetchFresh'),
      fetchKeepAlive: pool('fetchKeepAlive'),
      keychainRead: pool('keychainRead'),
      durableAppend: pool('durableAppend'),
    },
    pooledKeychainInWindowMs: summarize(runs.flatMap((run) => run.keychainInWindowSamplesMs)),
    pooledWithoutKeychainMs: summarize(runs.flatMap((run) => run.withoutKeychainSamplesMs)),
    ratioWithoutKeychainFresh: ratioSpread((r) => r.ratioWithoutKeychainFresh),
    ratioFresh: { p50: ratioSpread((r) => r.ratioFresh.p50), p95: ratioSpread((r) => r.ratioFresh.p95), p99: ratioSpread((r) => r.ratioFresh.p99) },
    ratioBaseline: { p50: ratioSpread((r) => r.ratioBaseline.p50), p95: ratioSpread((r) => r.ratioBaseline.p95) },
    ratioReference: { p50: ratioSpread((r) => r.ratioReference.p50), p95: ratioSpread((r) => r.ratioReference.p95) },
    ratioReferenceGcm: { p50: ratioSpread((r) => r.ratioReferenceGcm.p50), p95: ratioSpread((r) => r.ratioReferenceGcm.p95) },
    ratioKeepAlive: {
      p50: ratioSpread((r) => r.ratioKeepAlive.p50),
      p95: ratioSpread((r) => r.ratioKeepAlive.p95),
      p99: ratioSpread((r) => r.ratioKeepAlive.p99),
    },
    cpuProfile,
  };
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}
interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

function categoryOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle (waiting: keychain D-Bus round trips, sockets)';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.includes('node-forge')) return 'node-forge';
  if (url.includes('/main/crypto/')) return 'main/crypto (station code on node-forge)';
  if (url.includes('zod')) return 'zod (validation)';
  if (url.includes('/main/core/')) return 'main/core';
  if (url.includes('/sandbox/')) return 'sandbox processor';
  if (url.includes('keytar')) return 'keytar';
  if (url.startsWith('node:') || url === '') return 'Node.js internals and natives (http, net, streams, llhttp, undici)';
  if (url.includes('/scripts/bench/')) return 'benchmark driver';
  return 'other';
}

function summarizeProfile(profile: CpuProfile, path: string): CpuProfileSummary {
  // Self time per node: each sample lasts until the next one (the gap before the first is the profiler starting up).
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let sampledUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const delta = deltas[i + 1] ?? 0;
    sampledUs += delta;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const totalMs = sampledUs / 1000;
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*\/work\/main\//, '');
    const name = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const category = categoryOf(url, functionName);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const ranked = (map: Map<string, number>, limit: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, selfMs: round(us / 1000), share: round(us / 1000 / totalMs, 4) }));
  return { path, totalMs: round(totalMs), topFunctions: ranked(byFunction, 15), categories: ranked(byCategory, 12) };
}
