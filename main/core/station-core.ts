/** Composition root of the main core, shared by the Electron adapter and the test harness. */
import { CardApiClient } from './card-api-client';
import type { StationConfig } from './config';
import { IpcRouter } from './ipc-router';
import type { KeyStore } from './keystore';
import type { Logger } from './log';
import { requireEntry } from './keystore';
import { Station } from './station';
import type { AuditSink, StationViewSink } from './station';
import { stampRecord } from './station-records';
import type { AuditExportFormat } from '../../common/domain';
import { SANDBOX_BASE_URL } from './config';
import type { StaffOptions } from './staff/options';
import { StaffSession } from './staff/session';
import { ApprovalDesk } from './approvals';
import { CardHistory } from './card-history';
import type { AuditShipStatus } from './audit';
import { perCardConfig, policyChanges, PolicyWatcher } from './policy/watch';
import type { ResolvedSettings } from './policy/resolve';
import type { PolicySource } from './policy/sources';

export interface StationCoreOptions {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  /** The processor's base URL (the configured one, or the embedded sandbox's). */
  readonly processorBaseUrl: string;
  readonly views: StationViewSink;
  readonly log?: Logger;
  /** Contents of processor.caFile, read by the caller. */
  readonly processorCa?: string;
  /** The audit trail (main/core/audit AuditLog in the app). */
  readonly audit?: AuditSink;
  /** Earlier attempts per card, gathered by start-up's one read of the trail; without it, read from `audit.records()`. */
  readonly history?: CardHistory;
  readonly staff: StaffOptions;
  /** Settings the managed policy sets (dotted paths): the operator window marks them. */
  readonly managedSettings?: readonly string[];
  /**
   * Watching the managed policy (main/core/policy/watch.ts): `settings` are those in effect at start (from
   * resolveSettings), `configText` config.json as read then. A change applies between cards and is recorded.
   */
  readonly policy?: { readonly source: PolicySource; readonly configText: string; readonly settings: ResolvedSettings; readonly intervalMs: number };
  /** Copies of the trail's records on their way to the bank's collector (main/core/audit/ship.ts). */
  readonly auditShipping?: { status(): AuditShipStatus; close(): Promise<void> };
}

export interface StationCore {
  readonly station: Station;
  readonly router: IpcRouter;
  readonly staff: StaffSession;
  /**
   * Closes for quitting: the router refuses every new action, entry in
   * progress is cancelled (and recorded), and it resolves once a request in
   * flight has its outcome and its audit record.
   */
  close(): Promise<void>;
}

export function createStationCore(options: StationCoreOptions): StationCore {
  const client = new CardApiClient({
    baseUrl: options.processorBaseUrl,
    connectTimeoutMs: options.config.processor.connectTimeoutMs,
    totalTimeoutMs: options.config.processor.totalTimeoutMs,
    getToken: () => requireEntry(options.keyStore, 'api-token'),
    retries: options.config.processor.retries,
    pins: options.config.processor.pins,
    ...(options.processorCa ? { ca: options.processorCa } : {}),
  });
  const staff: StaffSession = new StaffSession({
    auth: options.config.auth,
    stationId: options.config.station.id,
    sandbox: options.config.processor.baseUrl === SANDBOX_BASE_URL,
    ...options.staff,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.log ? { log: options.log } : {}),
    onChange: () => {
      holdSessionKeys();
      station.publishOperator();
    },
    // Locking or signing out ends a PIN entry: it is cancelled, wiped and recorded; signing out also clears the screen.
    onSessionEnd: (kind) => {
      holdSessionKeys();
      return kind === 'lock' ? station.interruptEntry('PIN_CANCELLED') : station.endOfSession();
    },
  });
  // The audit MAC key is kept in memory only while someone is signed in and unlocked (main/core/keystore.ts).
  const holdSessionKeys = (): void => options.keyStore.holdForSession?.(staff.view().state === 'signed-in');
  const history = options.history ?? new CardHistory(options.audit?.records?.() ?? []);
  // Made before the Station so its last check before sending can reach the desk; the desk needs nothing from the Station.
  const sandbox = options.config.processor.baseUrl === SANDBOX_BASE_URL;
  // The settings in effect: a new policy replaces them between cards (applyPolicy), never during one.
  let config = options.config;
  let managed = options.managedSettings ?? [];
  let inEffect = options.policy?.settings ?? null;
  let pending: ResolvedSettings | null = null;
  const approvals = new ApprovalDesk({
    get config() {
      return config;
    },
    history,
    sandbox,
    ...(options.staff.accounts ? { accounts: options.staff.accounts } : {}),
    ...(options.staff.sso ? { sso: options.staff.sso } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const station = new Station({
    get config() {
      return config;
    },
    keyStore: options.keyStore,
    cardApi: client,
    views: options.views,
    staffView: () => staff.view(),
    get managedSettings() {
      return managed;
    },
    betweenCards: () => applyPolicy(),
    auditShippingDelayedSince: () => {
      const status = options.auditShipping?.status();
      // A trail line the shipper could not verify is told at once, with the same notice, from when it was found.
      const since = [status?.noticeDue ? status.delayedSince : null, status?.unverified?.since ?? null].filter((time): time is Date => time !== null);
      return since.length > 0 ? new Date(Math.min(...since.map((time) => time.getTime()))).toISOString() : null;
    },
    history,
    approvals,
    ...(options.log ? { log: options.log } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  });
  const recordPolicy = (event: 'applied' | 'refused', location: string, changes: string[], reason: string | null): void => {
    void options.audit
      ?.append(stampRecord(config, { type: 'policy', event, location, changes, reason }))
      .catch(() => options.log?.error('audit.failed', { record: 'policy' }));
  };
  function applyPolicy(): void {
    const next = pending;
    if (!next || !inEffect) return;
    pending = null;
    const changes = policyChanges(inEffect, next);
    // Settings read per card take effect now; the others (processor, keychain, sign-in, audit, pad window) at the next start.
    config = perCardConfig(config, next.config);
    managed = next.managed;
    inEffect = next;
    options.log?.info('policy.applied', { changes: changes.length });
    recordPolicy('applied', next.policyLocation ?? options.policy?.source.location ?? 'policy', changes, null);
  }
  const watcher =
    options.policy && inEffect
      ? new PolicyWatcher({
          source: options.policy.source,
          configText: options.policy.configText,
          initial: inEffect,
          intervalMs: options.policy.intervalMs,
          ...(options.log ? { log: options.log } : {}),
          onChange: (next) => {
            pending = next;
            if (station.isBetweenCards()) {
              applyPolicy();
              station.publishOperator();
            }
          },
          onRefused: (code, location) => recordPolicy('refused', location, [], code),
        })
      : null;
  watcher?.start();
  const audit = options.audit;
  const router = new IpcRouter(station, staff, {
    approvals,
    ...(audit?.export
      ? {
          exportAudit: async (format: AuditExportFormat, username: string) => {
            const exported = await (audit.export as NonNullable<typeof audit.export>)(format, options.config.station.id);
            // The export is itself on record, under the auditor's name, before the file is handed over.
            await audit.append(stampRecord(options.config, { type: 'export', username, format, records: exported.records }));
            const stamp = new Date().toISOString().replace(/[:.]/g, '-');
            return { filename: `pin-station-audit-${options.config.station.id}-${stamp}.${format}`, text: exported.text };
          },
        }
      : {}),
  });
  return {
    station,
    router,
    staff,
    async close() {
      watcher?.stop();
      router.refuseActions();
      // The trail shows the session ended with the station, not a person signed in forever.
      await staff.signOut('quit').catch(() => undefined);
      staff.dispose();
      approvals.dispose();
      station.beginClose();
      station.interruptEntry('PIN_CANCELLED');
      await station.settled();
      // An outcome not yet on record gets one more try; if the trail still cannot take it, it stays on disk beside
      // the trail and is recorded at the next start.
      await station.retryUnrecorded().catch(() => false);
      station.dispose();
      client.close();
      await options.audit?.flush?.().catch(() => undefined);
      // Whatever is not shipped yet goes at the next start: the trail is the queue.
      await options.auditShipping?.close().catch(() => undefined);
    },
  };
}
