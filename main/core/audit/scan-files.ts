/**
 * The two files that keep a long trail's start-up fast (main/core/audit/scan.ts says how they are used): the
 * checkpoint (`<file>.verified`) and the card-history snapshot (`<file>.history`), each under a MAC of its own with
 * `audit-key` and its own domain prefix. Losing or failing either costs only time: the records are read instead.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { z } from 'zod';
import { hmacHex, macEquals } from './format';
import { isErrno, writeAll } from '../durable-file';

/** Prefix of the checkpoint's MAC input, so no record or head MAC can pass for one. */
export const AUDIT_CHECKPOINT_DOMAIN = 'pin-station-audit-checkpoint-v1\n';

export interface AuditCheckpoint {
  /** Bytes of the trail covered: whole records only, up to and including a newline. */
  readonly offset: number;
  /** The last covered record. */
  readonly seq: number;
  readonly mac: string;
  /** SHA-256 of the file's first `offset` bytes. */
  readonly sha256: string;
}

export function auditCheckpointPath(path: string): string {
  return `${path}.verified`;
}

const HEX64 = /^[0-9a-f]{64}$/;
const checkpointSchema = z.strictObject({
  offset: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  mac: z.string().regex(HEX64),
  sha256: z.string().regex(HEX64),
  checkpointMac: z.string().regex(HEX64),
});

function checkpointBody(point: AuditCheckpoint): string {
  return JSON.stringify({ offset: point.offset, seq: point.seq, mac: point.mac, sha256: point.sha256 });
}

/** The checkpoint, or null when there is none or it does not verify (then the whole trail is checked). */
export async function readCheckpoint(path: string, key: Uint8Array): Promise<AuditCheckpoint | null> {
  let text: string;
  try {
    text = await readFile(auditCheckpointPath(path), 'utf8');
  } catch {
    // Missing or unreadable (a folder in its place, no permission): the whole trail is checked instead.
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) return null;
  const point: AuditCheckpoint = { offset: parsed.data.offset, seq: parsed.data.seq, mac: parsed.data.mac, sha256: parsed.data.sha256 };
  return macEquals(hmacHex(key, AUDIT_CHECKPOINT_DOMAIN, checkpointBody(point)), parsed.data.checkpointMac) ? point : null;
}

/** Written after a check; not fsynced: losing it costs the next start time, never a check. */
export async function writeCheckpoint(path: string, point: AuditCheckpoint, key: Uint8Array): Promise<void> {
  await replaceWithMac(auditCheckpointPath(path), checkpointBody(point), 'checkpointMac', AUDIT_CHECKPOINT_DOMAIN, key);
}

/** Replaces `file` with `body` (a JSON object) plus its MAC under `domain` as `macField`; a crash leaves old or new. */
async function replaceWithMac(file: string, body: string, macField: string, domain: string, key: Uint8Array): Promise<void> {
  const text = `${body.slice(0, -1)},"${macField}":"${hmacHex(key, domain, body)}"}\n`;
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await writeAll(handle, Buffer.from(text, 'utf8'), null);
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export async function removeCheckpoint(path: string): Promise<void> {
  for (const file of [auditCheckpointPath(path), auditHistoryPath(path)]) {
    await unlink(file).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }
}

/** Prefix of the history snapshot's MAC input, so no record, head or checkpoint MAC can pass for one. */
export const AUDIT_HISTORY_DOMAIN = 'pin-station-audit-history-v1\n';

/** A new snapshot is written once a start-up had to parse at least this many records for its visitor. */
export const HISTORY_SNAPSHOT_EVERY = 10_000;

export function auditHistoryPath(path: string): string {
  return `${path}.history`;
}

/** The visitor's state after the record `seq` (mac), which ends at byte `offset`; `sha256` of the bytes before it. */
export interface HistorySnapshot extends AuditCheckpoint {
  readonly state: unknown;
}

const historySchema = z.strictObject({
  offset: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  mac: z.string().regex(HEX64),
  sha256: z.string().regex(HEX64),
  state: z.unknown(),
  historyMac: z.string().regex(HEX64),
});

function historyBody(snapshot: HistorySnapshot): string {
  return JSON.stringify({ offset: snapshot.offset, seq: snapshot.seq, mac: snapshot.mac, sha256: snapshot.sha256, state: snapshot.state });
}

/** The snapshot, or null when there is none or it does not verify. */
export async function readHistorySnapshot(path: string, key: Uint8Array): Promise<HistorySnapshot | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(auditHistoryPath(path), 'utf8'));
  } catch {
    // Missing, unreadable or not JSON: the records are read instead.
    return null;
  }
  const parsed = historySchema.safeParse(value);
  if (!parsed.success) return null;
  const { offset, seq, mac, sha256, state } = parsed.data;
  const snapshot: HistorySnapshot = { offset, seq, mac, sha256, state };
  return macEquals(hmacHex(key, AUDIT_HISTORY_DOMAIN, historyBody(snapshot)), parsed.data.historyMac) ? snapshot : null;
}

/** Written after a start-up check; like the checkpoint, losing it costs only time. */
export async function writeHistorySnapshot(path: string, snapshot: HistorySnapshot, key: Uint8Array): Promise<void> {
  await replaceWithMac(auditHistoryPath(path), historyBody(snapshot), 'historyMac', AUDIT_HISTORY_DOMAIN, key);
}
