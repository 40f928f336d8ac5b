/**
 * Quitting waits for work in flight, however many times quit is asked for
 * (a second Ctrl+Q, the other window closing). The adapter asks on every
 * `before-quit`; until the close has finished, the answer is "not yet".
 */
export class QuitGate {
  private closing: Promise<void> | null = null;
  private closed = false;

  /**
   * @param close stops new work and waits for what is in flight (a request and its audit record)
   * @param onClosed runs once `close` has settled, whether it succeeded or not (the adapter quits again)
   * @param onCloseFailed reports a failed close; quitting goes ahead regardless
   */
  constructor(
    private readonly close: () => Promise<void>,
    private readonly onClosed: () => void,
    private readonly onCloseFailed: (error: unknown) => void = () => undefined,
  ) {}

  /** True when the app may exit now; otherwise the close is started (once) and the caller must prevent the quit. */
  requestQuit(): boolean {
    if (this.closed) return true;
    // Started synchronously, so the router refuses new actions before any other message is handled.
    this.closing ??= startClose(this.close)
      .catch((error: unknown) => this.onCloseFailed(error))
      .finally(() => {
        this.closed = true;
        this.onClosed();
      });
    return false;
  }

  /** Resolves once the close has settled (for tests and for a second caller). */
  async settled(): Promise<void> {
    await this.closing;
  }
}

function startClose(close: () => Promise<void>): Promise<void> {
  try {
    return close();
  } catch (error) {
    return Promise.reject(error);
  }
}
