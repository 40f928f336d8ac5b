/**
 * Heap-snapshot PIN detector (docs/architecture.md, "PIN secrecy", rule 4).
 *
 * Snapshots are kept as bytes (Buffers, whose contents live outside the V8
 * heap) and searched with Buffer.indexOf for needles that are built as bytes
 * too, so the detector itself never creates the PIN as a JavaScript string
 * and cannot plant what it is looking for. Only `retainerReport`, which runs
 * after a hit has already been found, turns the needle into a string.
 *
 * What a V8 heap snapshot can show: every string on the heap (flat strings
 * verbatim, up to --heap-snapshot-string-limit characters; a concatenated
 * string only as its parts), but not the contents of ArrayBuffers/typed arrays
 * or small integers. That is exactly the property the design relies on: digits
 * may exist transiently in wiped Uint8Arrays, never as strings.
 */
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { Page } from 'playwright-core';

export interface Needle {
  readonly label: string;
  /** ASCII bytes of what must not appear; never materialised as a JS string here. */
  readonly bytes: Buffer;
  /** True when `bytes` is the snapshot's JSON-escaped form of a binary string (see keyNeedles). */
  readonly escaped?: boolean;
}

const ASCII_0 = 0x30;
const ASCII_COMMA = 0x2c;
const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1');
const HEX_LOWER = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Everything that would betray `digits` in a heap: the PIN as a digit string,
 * the first 8 bytes of its ISO 9564-1 format 4 PIN field as hex (both cases),
 * and what `digits.join(',')` would give.
 */
export function pinNeedles(digits: readonly number[]): Needle[] {
  if (digits.length < 4 || digits.length > 12 || digits.some((d) => !Number.isInteger(d) || d < 0 || d > 9)) {
    throw new Error('pinNeedles: expected 4 to 12 digits');
  }
  const ascii = Buffer.from(digits.map((d) => ASCII_0 + d));
  const comma = Buffer.alloc(digits.length * 2 - 1, ASCII_COMMA);
  digits.forEach((d, i) => (comma[2 * i] = ASCII_0 + d));
  // Format 4, first half: nibble 4, nibble N, the N digits, 'A' fill up to nibble 16.
  const nibbles = [4, digits.length, ...digits];
  while (nibbles.length < 16) nibbles.push(0xa);
  const hex = (alphabet: Buffer): Buffer => Buffer.from(nibbles.map((n) => alphabet[n] as number));
  return [
    { label: 'PIN digit string', bytes: ascii },
    { label: 'PIN field hex (upper case)', bytes: hex(HEX_UPPER) },
    { label: 'PIN field hex (lower case)', bytes: hex(HEX_LOWER) },
    { label: 'PIN digits joined with ","', bytes: comma },
  ];
}

/**
 * Everything that would betray a key held as a string: its hex in both cases
 * and the key as a binary string (what node-forge's byte-string APIs take).
 * A heap snapshot writes a string as JSON from its UTF-8 form: bytes 0x20-0x7F
 * as themselves (`"` and `\\` escaped), the usual \b \f \n \r \t, every other
 * byte as \u00XX in upper case, and a NUL as a space. So the binary needle is
 * the escaped text of the bytes before the first zero byte, and is
 * left out when that prefix is shorter than 4 bytes (too short to mean anything).
 */
export function keyNeedles(name: string, key: Buffer): Needle[] {
  const needles: Needle[] = [
    { label: `${name} hex (upper case)`, bytes: Buffer.from(key.toString('hex').toUpperCase(), 'latin1') },
    { label: `${name} hex (lower case)`, bytes: Buffer.from(key.toString('hex'), 'latin1') },
  ];
  const end = key.indexOf(0);
  const prefix = end === -1 ? key : key.subarray(0, end);
  if (prefix.length >= 4) needles.push({ label: `${name} as a binary string`, bytes: snapshotEscape(prefix), escaped: true });
  return needles;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** The bytes V8 writes into a heap snapshot for a one-byte string made of `bytes` (no NUL). */
export function snapshotEscape(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const byte of bytes) {
    const short = SHORT_ESCAPES[byte];
    if (short !== undefined) parts.push(Buffer.from(short, 'latin1'));
    else if (byte >= 0x20 && byte <= 0x7f) parts.push(Buffer.of(byte));
    else parts.push(Buffer.from(`\\u${byte.toString(16).toUpperCase().padStart(4, '0')}`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** The labels of the needles found in the snapshot bytes (empty when the heap is clean). */
export function findNeedles(snapshot: Buffer, needles: readonly Needle[]): string[] {
  return needles.filter((needle) => snapshot.indexOf(needle.bytes) !== -1).map((needle) => needle.label);
}

/** The same search, as one report line per heap; `heaps` maps a heap's name to its snapshot. */
export function scanHeaps(heaps: Readonly<Record<string, Buffer>>, needles: readonly Needle[]): Record<string, string[]> {
  return Object.fromEntries(Object.entries(heaps).map(([name, snapshot]) => [name, findNeedles(snapshot, needles)]));
}

/** Strings longer than this are still shown (V8's default is 1024) in the test process's snapshots. */
const TEST_PROCESS_STRING_LIMIT = 1 << 20;
let stringLimitRaised = false;

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * A V8 heap snapshot of this (the test) process, which runs the real main
 * core, the IPC router and the sandbox processor. Garbage is collected first.
 * The snapshot goes straight from V8 to a temp file, never through JS strings.
 */
export async function snapshotTestProcess(): Promise<Buffer> {
  if (!stringLimitRaised) {
    // Show long strings whole, so a PIN inside e.g. a long log line or request body is not cut off.
    v8.setFlagsFromString(`--heap-snapshot-string-limit=${TEST_PROCESS_STRING_LIMIT}`);
    stringLimitRaised = true;
  }
  const session = new Session();
  session.connect();
  try {
    // Debugger.enable makes V8 compute every script's line-end table. Without it, Node 20's V8 finds
    // each function's source position by rescanning its script, and a snapshot of a process that has
    // loaded playwright-core's large bundles takes ~30 s instead of ~1 s.
    await post(session, 'Debugger.enable');
    await post(session, 'Debugger.disable');
    await post(session, 'HeapProfiler.enable');
    await post(session, 'HeapProfiler.collectGarbage');
    await post(session, 'HeapProfiler.disable');
  } finally {
    session.disconnect();
  }
  const file = join(tmpdir(), `pin-station-heap-${process.pid}-${randomBytes(6).toString('hex')}.heapsnapshot`);
  try {
    v8.writeHeapSnapshot(file);
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/** A heap snapshot of a renderer page through CDP's HeapProfiler, after a forced GC. */
export async function snapshotPage(page: Page): Promise<Buffer> {
  const cdp = await page.context().newCDPSession(page);
  const chunks: Buffer[] = [];
  const onChunk = ({ chunk }: { chunk: string }): void => {
    chunks.push(Buffer.from(chunk, 'utf8'));
  };
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await cdp.send('HeapProfiler.disable');
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
    await cdp.detach();
  }
  return Buffer.concat(chunks);
}

interface ParsedSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * For each heap object whose name (a string's own text) contains the needle:
 * the shortest chain of strong references from the snapshot's root to it, as
 * `root -[edge]-> node -[edge]-> ... -> the string`. Meant for failure
 * messages: it turns the needle into a string, so call it only after all
 * snapshots of the run have been taken.
 */
export function retainerReport(snapshotBytes: Buffer, needle: Needle, maxPaths = 3): string[] {
  const parsed = JSON.parse(snapshotBytes.toString('utf8')) as ParsedSnapshot;
  const { meta } = parsed.snapshot;
  const { nodes, edges, strings } = parsed;
  const nodeFieldCount = meta.node_fields.length;
  const edgeFieldCount = meta.edge_fields.length;
  const nodeType = meta.node_fields.indexOf('type');
  const nodeName = meta.node_fields.indexOf('name');
  const nodeEdgeCount = meta.node_fields.indexOf('edge_count');
  const edgeType = meta.edge_fields.indexOf('type');
  const edgeName = meta.edge_fields.indexOf('name_or_index');
  const edgeTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const nodeCount = nodes.length / nodeFieldCount;

  // Reverse edges: for each node, the (from node, edge) pairs pointing at it. Weak edges do not retain, but they are
  // kept apart to say what still knows of a string that nothing retains (a cache, a table of weak references).
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0; n < nodeCount; n++) firstEdge[n + 1] = (firstEdge[n] as number) + (nodes[n * nodeFieldCount + nodeEdgeCount] as number);
  const retainers: Array<Array<[number, number]>> = Array.from({ length: nodeCount }, () => []);
  const weakRetainers: Array<Array<[number, number]>> = Array.from({ length: nodeCount }, () => []);
  for (let n = 0; n < nodeCount; n++) {
    for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e++) {
      const base = e * edgeFieldCount;
      const to = (edges[base + edgeTo] as number) / nodeFieldCount;
      (edgeTypes[edges[base + edgeType] as number] === 'weak' ? weakRetainers : retainers)[to]?.push([n, e]);
    }
  }

  const text = needle.escaped ? (JSON.parse(`"${needle.bytes.toString('latin1')}"`) as string) : needle.bytes.toString('latin1');
  const describeNode = (n: number): string => {
    const type = nodeTypes[nodes[n * nodeFieldCount + nodeType] as number] ?? '?';
    const name = strings[nodes[n * nodeFieldCount + nodeName] as number] ?? '';
    const shown = name.includes(text) ? '<contains the needle>' : name.length > 60 ? `${name.slice(0, 57)}...` : name;
    return `${type} ${JSON.stringify(shown)}`;
  };
  const describeEdge = (e: number): string => {
    const base = e * edgeFieldCount;
    const type = edgeTypes[edges[base + edgeType] as number] ?? '?';
    const nameOrIndex = edges[base + edgeName] as number;
    const name = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : (strings[nameOrIndex] ?? '?');
    return `${type}:${name}`;
  };

  /** Breadth-first search backwards from the hit to the root (node 0); null when the root is not reached. */
  const pathFromRoot = (target: number, withWeak: boolean): string | null => {
    const via = new Int32Array(nodeCount).fill(-1); // edge index used to step back from a node
    const next = new Int32Array(nodeCount).fill(-1); // the node that edge points at (towards the hit)
    const seen = new Uint8Array(nodeCount);
    seen[target] = 1;
    let frontier = [target];
    let reached = false;
    while (frontier.length > 0 && !reached) {
      const following: number[] = [];
      for (const node of frontier) {
        for (const [from, edge] of [...(retainers[node] ?? []), ...(withWeak ? (weakRetainers[node] ?? []) : [])]) {
          if (seen[from]) continue;
          seen[from] = 1;
          via[from] = edge;
          next[from] = node;
          if (from === 0) {
            reached = true;
            break;
          }
          following.push(from);
        }
        if (reached) break;
      }
      frontier = following;
    }
    if (!reached) return null;
    const steps: string[] = [describeNode(0)];
    for (let node = 0; node !== target; node = next[node] as number) {
      steps.push(`-[${describeEdge(via[node] as number)}]-> ${describeNode(next[node] as number)}`);
    }
    return steps.join(' ');
  };

  const reports: string[] = [];
  for (let target = 0; target < nodeCount && reports.length < maxPaths; target++) {
    if (!(strings[nodes[target * nodeFieldCount + nodeName] as number] ?? '').includes(text)) continue;
    const strong = pathFromRoot(target, false);
    if (strong !== null) {
      reports.push(strong);
      continue;
    }
    const direct = [...(retainers[target] ?? []), ...(weakRetainers[target] ?? [])].map(([from, edge]) => `${describeNode(from)} -[${describeEdge(edge)}]->`);
    const weak = pathFromRoot(target, true);
    reports.push(
      `${describeNode(target)} (no strong path from the root${weak ? `; through a weak reference: ${weak}` : ''}; held directly by: ${direct.join(', ') || 'nothing'})`,
    );
  }
  return reports;
}
