/**
 * What each renderer page loads from out/renderer, and its size raw and gzip.
 * The list comes from the built index.html (module script, modulepreload and
 * stylesheet links) plus the static and dynamic imports of those scripts
 * (a language's texts are a dynamic import: every language the page can load
 * is counted, not only the one shown first), and is merged with what Chromium
 * actually requested (when the browser part ran), so a chunk loaded some
 * other way is not missed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

export const REPO_ROOT = normalize(join(import.meta.dirname, '..', '..'));
export const RENDERER_OUT = join(REPO_ROOT, 'out', 'renderer');
export type PageName = 'pinpad' | 'operator';

export interface AssetSize {
  /** Path under out/renderer. */
  readonly file: string;
  readonly kind: 'js' | 'css';
  readonly rawBytes: number;
  readonly gzipBytes: number;
  /** 'lazy': reached only through a dynamic import (loaded when first needed). */
  readonly loading: 'static' | 'lazy';
}

export interface PageSizes {
  readonly page: PageName;
  readonly html: string;
  readonly assets: readonly AssetSize[];
  readonly jsRawBytes: number;
  /** Every script the page can load, lazy chunks included (the budget's figure). */
  readonly jsGzipBytes: number;
  /** The scripts loaded before the page runs (its HTML and their static imports). */
  readonly staticJsGzipBytes: number;
  readonly cssRawBytes: number;
  readonly cssGzipBytes: number;
  /** Files the browser requested that the static scan had not found (normally none). */
  readonly addedFromBrowser: readonly string[];
}

const attr = (tag: string, name: string): string | null => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, 'i').exec(tag)?.[1] ?? null;

/** Files (absolute paths) a built page references directly. */
function htmlReferences(htmlPath: string): string[] {
  const html = readFileSync(htmlPath, 'utf8');
  const refs: string[] = [];
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
    const src = attr(tag, 'src');
    if (src) refs.push(src);
  }
  for (const tag of html.match(/<link\b[^>]*>/gi) ?? []) {
    const rel = (attr(tag, 'rel') ?? '').toLowerCase();
    const href = attr(tag, 'href');
    if (href && (rel === 'stylesheet' || rel === 'modulepreload')) refs.push(href);
  }
  return refs.filter((ref) => !/^[a-z]+:/i.test(ref)).map((ref) => normalize(join(dirname(htmlPath), ref.split(/[?#]/)[0] as string)));
}

/** Relative static imports of a built ES module (`import ... from "./x.js"`, `import "./x.css"`, `export ... from`). */
function staticImports(jsPath: string): string[] {
  const code = readFileSync(jsPath, 'utf8');
  const found: string[] = [];
  const pattern = /\b(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of code.matchAll(pattern)) found.push(normalize(join(dirname(jsPath), match[1] as string)));
  return found;
}

/** Relative dynamic imports of a built ES module (`import("./x.js")`, any quotes). */
function dynamicImports(jsPath: string): string[] {
  const code = readFileSync(jsPath, 'utf8');
  const pattern = /\bimport\(\s*["'`](\.{1,2}\/[^"'`]+)["'`]\s*\)/g;
  return Array.from(code.matchAll(pattern), (match) => normalize(join(dirname(jsPath), match[1] as string)));
}

function sizeOf(path: string, loading: AssetSize['loading']): AssetSize {
  const data = readFileSync(path);
  return {
    file: relative(RENDERER_OUT, path).split(sep).join('/'),
    kind: path.endsWith('.css') ? 'css' : 'js',
    loading,
    rawBytes: data.length,
    // zlib's default level (6), as a web server would typically send it.
    gzipBytes: gzipSync(data).length,
  };
}

/**
 * @param browserLoaded paths under out/renderer that Chromium requested for this page (e.g. "assets/pinpad-x.js").
 */
export function pageSizes(page: PageName, browserLoaded: readonly string[] = []): PageSizes {
  const htmlPath = join(RENDERER_OUT, page, 'index.html');
  if (!existsSync(htmlPath)) throw new Error(`${relative(REPO_ROOT, htmlPath)} is missing; run the build first`);
  const seen = new Map<string, AssetSize['loading']>();
  // Static first, so a chunk both imported and lazily imported counts as static.
  const lazy: string[] = [];
  for (const [queue, loading] of [
    [htmlReferences(htmlPath), 'static'],
    [lazy, 'lazy'],
  ] as const) {
    while (queue.length > 0) {
      const file = queue.shift() as string;
      if (seen.has(file) || !file.startsWith(RENDERER_OUT + sep) || !existsSync(file)) continue;
      seen.set(file, loading);
      if (!file.endsWith('.js')) continue;
      queue.push(...staticImports(file));
      lazy.push(...dynamicImports(file));
    }
  }
  const addedFromBrowser: string[] = [];
  for (const loaded of browserLoaded) {
    const file = normalize(join(RENDERER_OUT, loaded));
    if (!file.startsWith(RENDERER_OUT + sep) || !/\.(js|css)$/.test(file) || seen.has(file) || !existsSync(file)) continue;
    seen.set(file, 'lazy');
    addedFromBrowser.push(loaded);
  }
  const assets = [...seen]
    .filter(([file]) => /\.(js|css)$/.test(file))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, loading]) => sizeOf(file, loading));
  const total = (kind: 'js' | 'css', key: 'rawBytes' | 'gzipBytes', only?: AssetSize['loading']): number =>
    assets.filter((asset) => asset.kind === kind && (only === undefined || asset.loading === only)).reduce((sum, asset) => sum + asset[key], 0);
  return {
    page,
    html: relative(RENDERER_OUT, htmlPath),
    assets,
    jsRawBytes: total('js', 'rawBytes'),
    jsGzipBytes: total('js', 'gzipBytes'),
    staticJsGzipBytes: total('js', 'gzipBytes', 'static'),
    cssRawBytes: total('css', 'rawBytes'),
    cssGzipBytes: total('css', 'gzipBytes'),
    addedFromBrowser,
  };
}

/** The preload bundle Electron runs before the page (not a renderer asset; reported for information). */
export function preloadSize(page: PageName): AssetSize | null {
  const path = join(REPO_ROOT, 'out', 'preload', `${page}.cjs`);
  if (!existsSync(path)) return null;
  const data = readFileSync(path);
  return { file: relative(REPO_ROOT, path), kind: 'js', loading: 'static', rawBytes: data.length, gzipBytes: gzipSync(data).length };
}
