/**
 * One start-up path for the app (main/index.ts) and the browser test harness
 * (test/harness/launch-station.ts): read the config, reach the processor and
 * the keychain, build the core and check its keys. What differs between the
 * two (where the config file is, which processor and keychain, where the log
 * and the audit trail go) comes in as functions; the order and the error
 * handling are this file's, so the e2e suites test the app's real start-up.
 *
 * A station that cannot start is not an exception: the result is an
 * "unavailable" router whose screen says what is wrong and how to fix it.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditShipper, loadShipIdentity, OpenAttemptTracker, readAuditKey } from './audit';
import { adminLockHolder } from './admin-lock';
import { CardHistory } from './card-history';
import { StationError, toErrorInfo } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import type { IpcHandler } from '../../common/ipc';
import { resolveSettings } from './policy/resolve';
import type { ResolvedSettings } from './policy/resolve';
import type { PolicySource } from './policy/sources';
import type { StationConfig } from './config';
import type { KeyStore } from './keystore';
import type { Logger } from './log';
import type { AuditSink, StationViewSink } from './station';
import { createStationCore } from './station-core';
import type { StationCore } from './station-core';
import { stampRecord } from './station-records';
import type { StaffOptions } from './staff/options';
import { SANDBOX_BASE_URL } from './config';
import { DEFAULT_PROFILE } from '../../common/domain';
import { preparePracticeAccounts } from './staff/practice';
import { unavailableRouter } from './unavailable';

export interface Processor {
  readonly baseUrl: string;
  /** The keychain holding the keys for this processor. */
  readonly keyStore: KeyStore;
  /** Stops what was started for it (the embedded sandbox), if anything. */
  readonly stop?: () => Promise<void>;
}

export interface BootDeps {
  /** The config file's text; '' when there is none. Rejects with CONFIG_INVALID when it cannot be read. */
  readonly readConfigText: () => Promise<string>;
  /** The managed policy (main/core/policy): the OS's fixed location in the app, a test's own file in tests. */
  readonly policy?: PolicySource;
  /** How often the policy is read again while the station runs (10 s unless a test says otherwise). */
  readonly policyPollMs?: number;
  /** Called once the config is valid; may refuse it (an installed station and the sandbox). */
  readonly processorFor: (config: StationConfig) => Promise<Processor>;
  readonly loggerFor?: (config: StationConfig) => Logger;
  /** The station's data folder: its audit trail and local staff accounts live under it (see stationDataDir). */
  readonly dataDir: string;
  /** The audit trail, under `dataDir` as stationDataDir chose it; with the sandbox processor, a practice trail (never shipped). */
  readonly auditFor?: (config: StationConfig, processor: Processor, dataDir: string) => AuditSink;
  readonly viewsFor: (config: StationConfig) => StationViewSink;
  /** Where staff accounts live (local, under `dataDir` as chosen) or how single sign-on opens the system browser (oidc). */
  readonly staffFor: (config: StationConfig, processor: Processor, dataDir: string) => StaffOptions | Promise<StaffOptions>;
}

/**
 * Where a run's trail and accounts live: practice with the sandbox processor keeps its own in the data folder's
 * `sandbox` folder, so the station's real trail (and what it ships to the SIEM) holds real records only, without gaps,
 * and its practice accounts stay apart from the station's.
 */
export function stationDataDir(config: StationConfig, dataDir: string): string {
  return config.processor.baseUrl === SANDBOX_BASE_URL ? join(dataDir, 'sandbox') : dataDir;
}

export type BootResult =
  | {
      readonly kind: 'running';
      readonly config: StationConfig;
      /** Every setting with its value and source (policy, config file, default). */
      readonly settings: ResolvedSettings;
      readonly core: StationCore;
      readonly router: IpcHandler;
      readonly processor: Processor;
      readonly log: Logger | null;
    }
  | {
      readonly kind: 'unavailable';
      /** Null when the config itself could not be read or is invalid. */
      readonly config: StationConfig | null;
      readonly error: StationErrorInfo;
      readonly router: IpcHandler;
      readonly log: Logger | null;
    };

/** Reading a policy file, the registry or a plist every 10 s costs next to nothing and applies a change soon. */
const POLICY_POLL_MS = 10_000;

export async function bootStation(deps: BootDeps): Promise<BootResult> {
  let config: StationConfig | null = null;
  let settings: ResolvedSettings | null = null;
  let log: Logger | null = null;
  let processor: Processor | null = null;
  let core: StationCore | null = null;
  let shipper: AuditShipper | null = null;
  try {
    // The policy beats config.json beats the defaults; a weakened or invalid policy refuses start-up.
    const policy = deps.policy ? await deps.policy.read() : null;
    const configText = await deps.readConfigText();
    settings = resolveSettings(configText, policy, deps.policy?.location ?? null);
    const watch = deps.policy ? { source: deps.policy, configText, settings, intervalMs: deps.policyPollMs ?? POLICY_POLL_MS } : null;
    config = settings.config;
    log = deps.loggerFor?.(config) ?? null;
    processor = await deps.processorFor(config);
    const processorCa = config.processor.caFile ? await readCaFile(config.processor.caFile) : undefined;
    const dataDir = stationDataDir(config, deps.dataDir);
    const audit = deps.auditFor?.(config, processor, dataDir);
    // An admin command writing the trail (a key-load ceremony) holds it until it is done: one writer at a time.
    const adminHolder = audit?.path ? adminLockHolder(audit.path) : null;
    if (adminHolder !== null) {
      throw new StationError(
        'AUDIT_WRITE_FAILED',
        `An admin command is writing the audit trail: ${adminHolder}. Start the station again once it has finished.`,
      );
    }
    // A trail that was deleted, cut short or replaced (the keychain's high-water mark tells), or has an edited
    // record anywhere in its chain, refuses start-up, before anything else can be wrong with it. That check reads
    // the trail once, and what start-up needs from it (card history, attempts without an outcome) is kept on the way.
    const history = new CardHistory();
    const openAttempts = new OpenAttemptTracker();
    await audit?.check({
      record: (record) => {
        history.noteRecord(record);
        openAttempts.note(record);
      },
      restart: () => {
        history.clear();
        openAttempts.clear();
      },
      // Kept with the trail's checkpoint, so a long trail's earlier records are not read again at every start.
      snapshot: () => ({ history: history.snapshot(), openAttempts: openAttempts.snapshot() }),
      restore: (state) => {
        const kept = state as { history?: unknown; openAttempts?: unknown } | null;
        return typeof kept === 'object' && kept !== null && history.restore(kept.history) && openAttempts.restore(kept.openAttempts);
      },
    });
    shipper = await shipperFor(config, audit, processor.keyStore, log, () => core?.station.publishOperator());
    let staff = await deps.staffFor(config, processor, dataDir);
    if (config.processor.baseUrl === SANDBOX_BASE_URL && config.auth.provider === 'local' && staff.accounts) {
      staff = { ...staff, practiceAccounts: await preparePracticeAccounts(staff.accounts) };
    }
    core = createStationCore({
      staff,
      config,
      keyStore: processor.keyStore,
      processorBaseUrl: processor.baseUrl,
      views: deps.viewsFor(config),
      ...(processorCa ? { processorCa } : {}),
      ...(log ? { log } : {}),
      ...(audit ? { audit, history } : {}),
      ...(shipper ? { auditShipping: shipper } : {}),
      managedSettings: settings.managed,
      ...(watch ? { policy: watch } : {}),
    });
    await refuseSilentProfileChange(settings, processor.keyStore);
    // The last run's loose ends are recorded first, before any record of this run (a key promoted by the check
    // below) and whether or not that check passes. First an outcome the last run could not record (kept beside the
    // trail), which closes its attempt; then requests cut short by the last stop get their outcome-unknown record.
    const recovered = await core.station.recoverPendingOutcome(new Set(openAttempts.list().map((attempt) => attempt.attemptId)));
    await core.station.closeInterruptedAttempts(openAttempts.list().filter((attempt) => attempt.attemptId !== recovered));
    // Keys are checked now so a missing or malformed one is a clear screen, not a surprise at the first card.
    await core.station.preflight();
    // Only a trail that passed its checks is shipped.
    shipper?.start();
    log?.info('app.start', { profile: config.profile });
    return { kind: 'running', config, settings, core, router: core.router, processor, log };
  } catch (error) {
    const info = toErrorInfo(error);
    log?.error('app.unavailable', { code: info.code });
    await core?.close().catch(() => undefined);
    await shipper?.close().catch(() => undefined);
    await processor?.stop?.().catch(() => undefined);
    return { kind: 'unavailable', config, error: info, router: unavailableRouter(info), log };
  }
}

/**
 * With audit.ship: the shipper that copies every record to the bank's collector, cued by each append. Its CA
 * file is read and parsed now, so a wrong path or a file that is not a certificate is a clear screen at start.
 */
async function shipperFor(
  config: StationConfig,
  audit: AuditSink | undefined,
  keyStore: KeyStore,
  log: Logger | null,
  onStatus: () => void,
): Promise<AuditShipper | null> {
  const ship = config.audit.ship;
  if (!ship || !audit?.path || !audit.addAppendListener) return null;
  let ca: string;
  try {
    ca = await readFile(ship.caFile, 'utf8');
    new X509Certificate(ca);
  } catch {
    throw new StationError('CONFIG_INVALID', 'audit.ship.caFile could not be read as a PEM certificate.');
  }
  if (config.processor.baseUrl === SANDBOX_BASE_URL) {
    // Practice records never leave the computer: the bank's SIEM holds only real ones.
    log?.info('audit.ship.off', { reason: 'sandbox' });
    return null;
  }
  // The station's certificate and its key from the keychain: a missing or mismatched one is the cannot-start screen.
  const clientCert = ship.certFile ? await loadShipIdentity(ship.certFile, keyStore) : undefined;
  const shipper = new AuditShipper({
    trailPath: audit.path,
    stationId: config.station.id,
    host: ship.host,
    port: ship.port,
    ca,
    protocol: ship.protocol,
    ackTimeoutMs: ship.ackTimeoutSeconds * 1000,
    ...(clientCert ? { clientCert } : {}),
    // The shipper checks each line with the trail's key before it believes a record is practice.
    auditKey: () => readAuditKey(keyStore),
    // A line that fails its check goes on record (which seq, why; never the line), not only into the status.
    recordUnverified: async (seq, reason) => {
      await audit.append(stampRecord(config, { type: 'ship-refused', lineSeq: seq !== null && seq >= 1 ? seq : null, reason }));
    },
    noticeAfterMs: ship.noticeAfterMinutes * 60_000,
    ...(ship.fingerprintSha256 ? { fingerprintSha256: ship.fingerprintSha256 } : {}),
    ...(log ? { log } : {}),
    onStatus,
  });
  audit.addAppendListener(() => shipper.kick());
  return shipper;
}

/**
 * A station set up when gcm was the default names no profile and holds only a pin-key: under the new default it
 * would look for the processor's public key. It is told what changed and the two ways out, rather than
 * "pin-public-key was not found".
 */
async function refuseSilentProfileChange(settings: ResolvedSettings, keyStore: KeyStore): Promise<void> {
  const profile = settings.settings.find((setting) => setting.path === 'profile');
  if (profile?.source !== 'default' || settings.config.profile !== DEFAULT_PROFILE) return;
  if ((await keyStore.get('pin-public-key')) !== null || (await keyStore.get('pin-key')) === null) return;
  throw new StationError(
    'PROFILE_DEFAULT_CHANGED',
    "Either import the card processor's public key or certificate (npm run keys -- import pin-public-key) and then delete pin-key " +
      '(npm run keys -- delete pin-key), or keep the symmetric key by setting "profile": "gcm" (or "iso4") explicitly in config.json.',
  );
}

async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new StationError('CONFIG_INVALID', 'processor.caFile could not be read.');
  }
}
