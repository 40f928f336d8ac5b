/**
 * The pad's preload with Electron's two objects replaced: what it asks main for
 * by itself, and that the page's early state is that one answer.
 */
import { describe, expect, it } from 'vitest';
import type { PinpadApi } from '../../common/ipc';
import { exposePinpadApi } from '../../preload/pinpad-api';
import type { IpcRendererLike } from '../../preload/bridge';

function preloadWithMain(answer: (channel: string, asked: number) => unknown): { api: PinpadApi; asks: string[] } {
  const asks: string[] = [];
  const ipcRenderer: IpcRendererLike = {
    invoke: (channel) => {
      asks.push(channel);
      return Promise.resolve(answer(channel, asks.length));
    },
    on: () => ipcRenderer,
    removeListener: () => ipcRenderer,
  };
  let exposed: unknown = null;
  exposePinpadApi({ contextBridge: { exposeInMainWorld: (_name, api) => void (exposed = api) }, ipcRenderer });
  return { api: exposed as PinpadApi, asks };
}

describe('pad preload', () => {
  it('asks main for the pad state once as it runs, and nothing else', () => {
    const { asks } = preloadWithMain(() => ({ ok: true, value: null }));
    expect(asks).toEqual(['pinpad:get-state']);
  });

  it('firstState is that first answer every time; getState asks main again for a current one', async () => {
    const { api, asks } = preloadWithMain((_channel, asked) => ({ ok: true, value: { revision: asked } }));
    expect(await api.firstState()).toEqual({ ok: true, value: { revision: 1 } });
    expect(await api.firstState()).toEqual({ ok: true, value: { revision: 1 } });
    expect(await api.getState()).toEqual({ ok: true, value: { revision: 2 } });
    expect(asks).toEqual(['pinpad:get-state', 'pinpad:get-state']);
  });
});
