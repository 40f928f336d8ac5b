/**
 * The head anchor, `<file>.head`: the last record's seq and mac under a MAC
 * of their own, so records cut off the end of the trail are detected.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AUDIT_HEAD_DOMAIN, AuditError, headSchema, hmacHex, macEquals } from './format';
import type { AuditLine } from './format';
import { auditHeadPath } from './files';
import { isErrno, replaceFileDurably } from '../durable-file';

export type HeadState = { readonly state: 'missing' } | { readonly state: 'bad' } | { readonly state: 'ok'; readonly seq: number; readonly mac: string };

function parseHead(text: Buffer, key: Uint8Array): HeadState {
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    return { state: 'bad' };
  }
  const parsed = headSchema.safeParse(value);
  if (!parsed.success) return { state: 'bad' };
  const body = JSON.stringify({ seq: parsed.data.seq, mac: parsed.data.mac });
  if (!macEquals(hmacHex(key, AUDIT_HEAD_DOMAIN, body), parsed.data.headMac)) return { state: 'bad' };
  return { state: 'ok', seq: parsed.data.seq, mac: parsed.data.mac };
}

export function readHeadSync(path: string, key: Uint8Array): HeadState {
  try {
    return parseHead(readFileSync(auditHeadPath(path)), key);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { state: 'missing' };
    throw error;
  }
}

export async function readHead(path: string, key: Uint8Array): Promise<HeadState> {
  try {
    return parseHead(await readFile(auditHeadPath(path)), key);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { state: 'missing' };
    throw error;
  }
}

export async function writeHead(path: string, seq: number, mac: string, key: Uint8Array): Promise<void> {
  const body = JSON.stringify({ seq, mac });
  const text = `${body.slice(0, -1)},"headMac":"${hmacHex(key, AUDIT_HEAD_DOMAIN, body)}"}\n`;
  await replaceFileDurably(auditHeadPath(path), text);
}

/**
 * Checks the head against the last complete record and brings a head that
 * lags by one record up to date. Throws AUDIT_CHAIN_BROKEN for any state a
 * crash cannot produce.
 */
export async function reconcileHead(path: string, last: AuditLine | null, key: Uint8Array): Promise<void> {
  const head = await readHead(path, key);
  const lastSeq = last?.seq ?? 0;
  if (head.state === 'missing') {
    if (lastSeq > 1) throw new AuditError('AUDIT_CHAIN_BROKEN', 'Its head anchor is missing. Run "npm run audit -- verify".');
    if (last) await writeHead(path, last.seq, last.mac, key);
    return;
  }
  if (head.state === 'bad') throw new AuditError('AUDIT_CHAIN_BROKEN', 'Its head anchor is damaged. Run "npm run audit -- verify".');
  if (head.seq > lastSeq) {
    throw new AuditError(
      'AUDIT_CHAIN_BROKEN',
      `It ends before record ${head.seq} named by its head anchor: records were removed. Run "npm run audit -- verify".`,
    );
  }
  if (last && head.seq === lastSeq && macEquals(head.mac, last.mac)) return;
  if (last && head.seq === lastSeq - 1 && macEquals(head.mac, last.prev)) {
    await writeHead(path, last.seq, last.mac, key);
    return;
  }
  throw new AuditError('AUDIT_CHAIN_BROKEN', 'It does not match its head anchor. Run "npm run audit -- verify".');
}
