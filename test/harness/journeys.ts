/** Steps shared by the e2e journeys, driven only through accessible names (as the acceptance tests do). */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CDPSession, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { SandboxProcessor } from '../../sandbox/processor';
import { launchStation } from './launch-station';
import type { LaunchedStation, LaunchStationOptions } from './launch-station';

export type ModeLabel = 'Customer chooses PIN' | 'Processor generates PIN';

export async function startCard(operator: Page, cardId: string, mode: ModeLabel, pan?: string): Promise<void> {
  await operator.getByRole('textbox', { name: 'Card ID' }).fill(cardId);
  await operator.getByRole('radio', { name: mode }).check();
  if (pan !== undefined) await operator.getByLabel('Card number (PAN)').fill(pan);
  await operator.getByRole('button', { name: 'Start' }).click();
}

/**
 * Presses one key per digit; `digits` may be a string or numbers so callers can avoid building the PIN as a string.
 * Waits for the keys to be enabled first: until an entry is active the idle pad shows the fixed layout, and a key
 * looked up by its label then could be clicked after the shuffled layout has put another digit on it.
 */
export async function typeDigits(pinpad: Page, digits: string | readonly number[]): Promise<void> {
  await pinpad.locator('.keys button:enabled').first().waitFor();
  for (const digit of digits) await pinpad.getByRole('button', { name: String(digit), exact: true }).click();
}

export async function waitForCount(pinpad: Page, count: number): Promise<void> {
  await pinpad.getByRole('img', { name: `${count} ${count === 1 ? 'digit' : 'digits'} entered` }).waitFor();
}

export const heading = (page: Page): Promise<string | null> => page.getByRole('heading').textContent();
export const statusText = (page: Page): Promise<string | null> => page.getByRole('status').textContent();

export async function enterAndConfirm(pinpad: Page, pin: string | readonly number[], confirmation: string | readonly number[] = pin): Promise<void> {
  await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
  await typeDigits(pinpad, pin);
  await waitForCount(pinpad, pin.length);
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
  await typeDigits(pinpad, confirmation);
  await waitForCount(pinpad, confirmation.length);
  await pinpad.getByRole('button', { name: 'OK' }).click();
}

/** True when the element the locator points at has the page's focus. */
export const isFocused = (locator: Locator): Promise<boolean> => locator.evaluate((element) => element === document.activeElement);

/** The accessible name of the focused element's own text (for keyboard-only journeys). */
export const focusedText = (page: Page): Promise<string> =>
  page.evaluate(() => (document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '').trim());

/**
 * The digits drawn on the pad's ten keys, by key position (what main calls
 * `layout`): positions 0-8 are the 3x3 grid, position 9 the bottom-centre key.
 * Read from the buttons' text, i.e. from what the cardholder sees.
 */
export async function padLayout(pinpad: Page): Promise<number[]> {
  const labels = await pinpad.locator('.keys button').allTextContents();
  return labels
    .map((label) => label.trim())
    .filter((label) => /^[0-9]$/.test(label))
    .map(Number);
}

/**
 * Emulates browser zoom the way Chromium implements it: the CSS viewport
 * shrinks by the factor and devicePixelRatio grows by it, so the window keeps
 * its size on screen while every CSS pixel becomes `factor` device pixels
 * (Ctrl+plus in Chromium, webContents.setZoomFactor in Electron). Media
 * queries, rem sizes and layout all see the zoomed viewport. `factor` 1 resets.
 */
export async function setZoom(page: Page, factor: number): Promise<void> {
  // The override lives as long as the CDP session that set it, so one session per page is kept open.
  let session = zoomSessions.get(page);
  if (!session) {
    session = await page.context().newCDPSession(page);
    zoomSessions.set(page, session);
  }
  // Factor 1 puts back the context's own viewport (clearing the override would drop Playwright's viewport too).
  const size = page.viewportSize() ?? { width: 800, height: 600 };
  await session.send('Emulation.setDeviceMetricsOverride', {
    width: Math.round(size.width / factor),
    height: Math.round(size.height / factor),
    deviceScaleFactor: factor,
    mobile: false,
  });
  if (factor === 1) await page.evaluate(() => window.scrollTo(0, 0));
}
const zoomSessions = new WeakMap<Page, CDPSession>();

/**
 * A screenshot that keeps setZoom()'s emulation (page.screenshot() puts
 * Playwright's own viewport back for the capture, which would undo the zoom).
 * The whole page is captured (what the user reaches by scrolling down), at
 * device pixels: as wide as the unzoomed window.
 */
export async function zoomedScreenshot(page: Page, path: string): Promise<void> {
  const session = zoomSessions.get(page);
  if (!session) throw new Error('zoomedScreenshot: call setZoom() first');
  // The whole page, as the user would see it scrolling down: CSS pixels of the zoomed page, at its device pixel ratio.
  const size = await page.evaluate(() => ({ width: document.documentElement.clientWidth, height: document.documentElement.scrollHeight }));
  const { data } = await session.send('Page.captureScreenshot', {
    format: 'png',
    captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
  });
  await writeFile(path, Buffer.from(data, 'base64'));
}

/** Horizontal overflow of the page in CSS pixels (0 when no horizontal scrolling is needed). */
export const horizontalOverflow = (page: Page): Promise<number> =>
  page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth);

/**
 * A loopback HTTP proxy in front of a processor that can hold set_pin
 * requests, so tests can see the station's "sending" state for as long as
 * they need, then let the request through.
 */
export class ProcessorGate {
  private server: http.Server | null = null;
  private readonly held: Array<() => void> = [];
  private holding = false;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      const forward = (): void => {
        const upstream = http.request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      };
      if (this.holding) this.held.push(forward);
      else forward();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Requests from now on wait until release(). */
  hold(): void {
    this.holding = true;
  }

  /** Number of requests waiting. */
  get waiting(): number {
    return this.held.length;
  }

  release(): void {
    this.holding = false;
    for (const forward of this.held.splice(0)) forward();
  }

  /** Stops listening: later requests find nothing on the port (the processor is unreachable). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    this.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface GatedStation {
  readonly station: LaunchedStation;
  readonly sandbox: SandboxProcessor;
  readonly gate: ProcessorGate;
  close(): Promise<void>;
}

/** launchStation() with its own sandbox behind a ProcessorGate (gcm or iso4 profiles; gcm unless the config names iso4). */
export async function launchGatedStation(options: Omit<LaunchStationOptions, 'processorUrl' | 'keys'> = {}): Promise<GatedStation> {
  const keys = { pinKeyHex: randomBytes(32).toString('hex').toUpperCase(), apiToken: `test-${randomBytes(18).toString('base64url')}` };
  const profile = options.config?.profile ?? 'gcm';
  if (profile !== 'gcm' && profile !== 'iso4') throw new Error('launchGatedStation: only the gcm and iso4 profiles are supported');
  const sandbox = new SandboxProcessor(keys, { profile });
  const gate = new ProcessorGate(await sandbox.start());
  const processorUrl = await gate.start();
  let station: LaunchedStation;
  try {
    station = await launchStation({ ...options, config: { ...options.config, profile }, processorUrl, keys });
  } catch (error) {
    await gate.stop();
    await sandbox.stop();
    throw error;
  }
  return {
    station,
    sandbox,
    gate,
    async close() {
      await station.close();
      await gate.stop();
      await sandbox.stop();
    },
  };
}

/**
 * Everything the pad exposes apart from the ten digit keys' own labels: the
 * accessibility tree (what a screen reader reads: roles, names, text) and,
 * from the DOM, every text node outside the key grid plus every attribute
 * value and the title. Used to check that nothing reveals an entered digit.
 */
export async function padExposedText(pinpad: Page): Promise<{ speech: string; dom: string }> {
  const snapshot = await pinpad.locator('body').ariaSnapshot();
  const speech = snapshot
    .split('\n')
    .filter((line) => !/^\s*- button "[0-9]"( \[[a-z]+\])*$/.test(line))
    .join('\n');
  const dom = await pinpad.evaluate(() => {
    const parts: string[] = [document.title];
    const keys = document.querySelector('.keys');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) if (!keys?.contains(node)) parts.push(node.textContent ?? '');
    for (const element of document.body.querySelectorAll('*'))
      for (const attribute of element.attributes) if (attribute.name !== 'class') parts.push(`${attribute.name}=${attribute.value}`);
    return parts.join('\n');
  });
  return { speech, dom };
}

/**
 * Words on the pad that the layout broke across lines or let spill out of their key: each word of every key label
 * and of the heading must sit on one line, inside its box. Empty when the labels fit.
 */
export async function brokenWords(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    for (const element of document.querySelectorAll('.key, h1')) {
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? '';
        for (const match of text.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
          if (lines.size > 1) found.push(`${match[0]} (split over ${lines.size} lines)`);
        }
      }
      if (element.scrollWidth > element.clientWidth + 1) found.push(`${element.textContent ?? ''} (wider than its box)`);
    }
    return found;
  });
}

/**
 * The page's HTML once it is not mid-navigation: the pad reloads itself as an entry ends, and Playwright cannot
 * read a page while it navigates.
 */
export async function settledContent(page: Page): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.content();
    } catch (error) {
      if (attempt >= 20 || !/navigating/.test(String(error))) throw error;
      await page.waitForLoadState('load');
    }
  }
}
