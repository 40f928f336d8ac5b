import type { IpcResult, OperatorChannel, OperatorInvoke, OperatorView, StationApi } from '../common/ipc';
import { OPERATOR_STATE_EVENT } from '../common/ipc';
import { subscribe } from './bridge';
import type { PreloadDeps } from './bridge';

/** Exposes `window.station`: the operator's few narrow calls, and no PIN API at all. */
export function exposeStationApi({ contextBridge, ipcRenderer }: PreloadDeps): void {
  const invoke = <C extends OperatorChannel>(channel: C, arg: OperatorInvoke[C]['arg']) =>
    ipcRenderer.invoke(channel, arg) as Promise<IpcResult<OperatorInvoke[C]['result']>>;
  const api: StationApi = {
    getState: () => invoke('station:get-state', null),
    // Copy only the known fields: nothing else from the page crosses the bridge.
    start: (request) =>
      invoke('station:start', {
        cardId: request.cardId,
        mode: request.mode,
        ...(request.pan === undefined ? {} : { pan: request.pan }),
        ...(request.approval === undefined ? {} : { approval: request.approval }),
        ...(request.audio === true ? { audio: true } : {}),
      }),
    approve: (c) =>
      invoke('station:approve', {
        cardId: String(c.cardId),
        mode: c.mode,
        reason: String(c.reason),
        username: String(c.username),
        password: String(c.password),
        code: String(c.code),
      }),
    approveSso: (r) => invoke('station:approve-sso', { cardId: String(r.cardId), mode: r.mode, reason: String(r.reason) }),
    exportAudit: (format) => invoke('audit:export', { format }),
    cancel: () => invoke('station:cancel', null),
    nextCard: () => invoke('station:next-card', null),
    signIn: (credentials) =>
      invoke('staff:sign-in', { username: String(credentials.username), password: String(credentials.password), code: String(credentials.code) }),
    signInSso: () => invoke('staff:sign-in-sso', null),
    unlock: (credentials) =>
      invoke('staff:unlock', { username: String(credentials.username), password: String(credentials.password), code: String(credentials.code) }),
    unlockSso: () => invoke('staff:unlock-sso', null),
    signOut: () => invoke('staff:sign-out', null),
    cancelSso: () => invoke('staff:cancel-sso', null),
    lock: () => invoke('staff:lock', null),
    activity: () => invoke('staff:activity', null),
    onState: (listener) => subscribe<OperatorView>(ipcRenderer, OPERATOR_STATE_EVENT, listener),
  };
  contextBridge.exposeInMainWorld('station', api);
}
