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
    start: (request) => invoke('station:start', { cardId: request.cardId, mode: request.mode }),
    cancel: () => invoke('station:cancel', null),
    nextCard: () => invoke('station:next-card', null),
    onState: (listener) => subscribe<OperatorView>(ipcRenderer, OPERATOR_STATE_EVENT, listener),
  };
  contextBridge.exposeInMainWorld('station', api);
}
