import type { IpcResult, PinpadApi, PinpadChannel, PinpadInvoke, PinpadView } from '../common/ipc';
import { PINPAD_STATE_EVENT } from '../common/ipc';
import { subscribe } from './bridge';
import type { PreloadDeps } from './bridge';

/** Exposes `window.pinpad`: key positions in, digit counts out; no card API at all. */
export function exposePinpadApi({ contextBridge, ipcRenderer }: PreloadDeps): void {
  const invoke = <C extends PinpadChannel>(channel: C, arg: PinpadInvoke[C]['arg']) =>
    ipcRenderer.invoke(channel, arg) as Promise<IpcResult<PinpadInvoke[C]['result']>>;
  // Asked before the page's script is fetched, so the keypad does not wait one more round trip after it runs.
  const firstState = invoke('pinpad:get-state', null);
  // A failed early ask is the page's to handle (it asks again); not an unhandled rejection while nobody has asked yet.
  firstState.catch(() => undefined);
  const api: PinpadApi = {
    getState: () => invoke('pinpad:get-state', null),
    firstState: () => firstState,
    press: (position) => invoke('pinpad:press', position),
    erase: () => invoke('pinpad:erase', null),
    clear: () => invoke('pinpad:clear', null),
    submit: () => invoke('pinpad:submit', null),
    cancel: () => invoke('pinpad:cancel', null),
    audioDevice: (found) => invoke('pinpad:audio-device', found === true),
    language: (language) => invoke('pinpad:language', language),
    outcomeCuePlayed: () => invoke('pinpad:outcome-cue-played', null),
    onState: (listener) => subscribe<PinpadView>(ipcRenderer, PINPAD_STATE_EVENT, listener),
  };
  contextBridge.exposeInMainWorld('pinpad', api);
}
