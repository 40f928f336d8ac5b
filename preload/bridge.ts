/**
 * The two Electron objects a preload needs, as narrow structural types, so the
 * real preload code also runs in the browser test harness with shims.
 */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

export interface PreloadDeps {
  readonly contextBridge: ContextBridgeLike;
  readonly ipcRenderer: IpcRendererLike;
}

/** Subscribes to one main-to-renderer event; returns the unsubscribe function. */
export function subscribe<T>(ipcRenderer: IpcRendererLike, channel: string, listener: (view: T) => void): () => void {
  const handler = (_event: unknown, view: unknown): void => listener(view as T);
  ipcRenderer.on(channel, handler);
  return () => {
    ipcRenderer.removeListener(channel, handler);
  };
}
