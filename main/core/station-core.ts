/** Composition root of the main core, shared by the Electron adapter and the test harness. */
import { CardApiClient } from './card-api-client';
import type { StationConfig } from './config';
import { IpcRouter } from './ipc-router';
import type { KeyStore } from './keystore';
import type { Logger } from './log';
import { requireEntry } from './keystore';
import { Station } from './station';
import type { AuditSink, StationViewSink } from './station';

export interface StationCoreOptions {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  /** The processor's base URL (the configured one, or the embedded sandbox's). */
  readonly processorBaseUrl: string;
  readonly views: StationViewSink;
  readonly log?: Logger;
  /** Contents of processor.caFile, read by the caller. */
  readonly processorCa?: string;
  /** The audit trail (main/core/audit.ts AuditLog in the app). */
  readonly audit?: AuditSink;
}

export interface StationCore {
  readonly station: Station;
  readonly router: IpcRouter;
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
  const station = new Station({
    config: options.config,
    keyStore: options.keyStore,
    cardApi: client,
    views: options.views,
    ...(options.log ? { log: options.log } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  });
  const router = new IpcRouter(station);
  return {
    station,
    router,
    async close() {
      router.refuseActions();
      station.beginClose();
      station.interruptEntry('PIN_CANCELLED');
      await station.settled();
      station.dispose();
      client.close();
    },
  };
}
