/**
 * What the Station is given: its config and keychain, the processor, where its views and records go, and the
 * staff, policy and approval facts it consults. Apart from station.ts so the pieces it is built from can name it.
 */
import type { PinMode } from '../../common/domain';
import type { OperatorView, PinpadView } from '../../common/ipc';
import type { StaffView } from '../../common/staff';
import type { Grant } from './approvals';
import type { CardHistory } from './card-history';
import type { CardApi } from './card-api-client';
import type { StationConfig } from './config';
import type { KeyStore } from './keystore';
import type { Logger } from './log';
import type { RandomSource } from './pin-session';
import type { AuditSink } from './station-records';

export interface StationViewSink {
  operator(view: OperatorView): void;
  pinpad(view: PinpadView): void;
  /** The pad has spoken an audio entry's final outcome: what waited for it (the pad's reload) may go ahead. */
  outcomeCuePlayed?(): void;
}

export interface StationDeps {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  readonly cardApi: CardApi;
  readonly views: StationViewSink;
  readonly random?: RandomSource;
  readonly log?: Logger;
  readonly audit?: AuditSink;
  /** The staff session's part of the operator view. */
  readonly staffView?: () => StaffView;
  /** Settings the managed policy sets (dotted paths), for the operator window's marks. */
  readonly managedSettings?: readonly string[];
  /** Told whenever no card is in progress (and at each Start, before it reads a setting): a new policy applies then. */
  readonly betweenCards?: () => void;
  /** Since when shipping the trail to the SIEM has been failing (ISO time), once that is worth telling; null otherwise. */
  readonly auditShippingDelayedSince?: () => string | null;
  /** Earlier attempts per card, kept up to date with every record (for the approval rules). */
  readonly history?: CardHistory;
  /** The approval desk's last check before a request goes out, and the end of a grant whose entry ended. */
  readonly approvals?: { confirmAtSend(grant: Grant, cardId: string, mode: PinMode, operator: string): void; discard(grant: Grant): void };
}
