/**
 * RELP, rsyslog's Reliable Event Logging Protocol (librelp; the collector side
 * is rsyslog's imrelp), client side: the wire format and one session's state.
 * The shipper (./ship.ts) owns the socket, the queue and the watermark; this
 * file turns records into transactions and the collector's bytes into events.
 *
 * A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`: TXNR 1..999999999,
 * COMMAND letters, DATALEN the byte length of DATA (0: no DATA). The client
 * opens with `open` (its offers), sends one `syslog` command per record and
 * ends with `close`; the server answers each with `rsp` under the same TXNR,
 * DATA being `CODE [SP TEXT] [LF DATA]` (200 is success). The server may send
 * `serverclose` (TXNR 0) when it goes away. Unlike plain syslog over TLS, the
 * `rsp 200` says the collector took the record: the shipper commits on it.
 */

/** The largest transaction number; the next one after it is 1. */
export const RELP_MAX_TXNR = 999_999_999;
/** The largest response the collector may send us (its `open` answer is the longest, well under 1 KiB). */
const MAX_RESPONSE_DATA = 64 * 1024;
const MAX_HEADER_BYTES = 9 + 1 + 32 + 1 + 9 + 1;
const LF = 0x0a;
const SP = 0x20;

/** What the station offers at `open`: protocol version 0 and the one command it uses. */
export const RELP_OPEN_OFFERS = 'relp_version=0\nrelp_software=pin-station\ncommands=syslog';

export function nextTxnr(txnr: number): number {
  return txnr >= RELP_MAX_TXNR ? 1 : txnr + 1;
}

/** One RELP frame. */
export function relpFrame(txnr: number, command: string, data?: Buffer): Buffer {
  if (!data || data.length === 0) return Buffer.from(`${txnr} ${command} 0\n`, 'ascii');
  return Buffer.concat([Buffer.from(`${txnr} ${command} ${data.length} `, 'ascii'), data, Buffer.from([LF])]);
}

export interface RelpFrame {
  readonly txnr: number;
  readonly command: string;
  readonly data: Buffer;
}

/** The collector sent something that is not RELP (or is larger than any answer can be). */
export class RelpProtocolError extends Error {
  readonly code = 'RELP_PROTOCOL';
}

/** Splits the collector's byte stream into frames; bytes may arrive in any pieces. */
export class RelpFrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** The complete frames in what has arrived so far. Throws RelpProtocolError on bytes that are not RELP. */
  push(chunk: Buffer): RelpFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: RelpFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) break;
      frames.push(frame);
    }
    return frames;
  }

  private next(): RelpFrame | null {
    const buf = this.buffer;
    // TXNR SP COMMAND SP DATALEN, then LF (DATALEN 0) or SP DATA LF.
    const firstSp = buf.indexOf(SP);
    if (firstSp === -1) return this.incomplete(buf.length);
    const secondSp = buf.indexOf(SP, firstSp + 1);
    if (secondSp === -1) return this.incomplete(buf.length);
    let lenEnd = secondSp + 1;
    while (lenEnd < buf.length && buf[lenEnd] !== SP && buf[lenEnd] !== LF) lenEnd++;
    if (lenEnd >= buf.length) return this.incomplete(buf.length);
    const txnrText = buf.toString('ascii', 0, firstSp);
    const command = buf.toString('ascii', firstSp + 1, secondSp);
    const lenText = buf.toString('ascii', secondSp + 1, lenEnd);
    if (!/^\d{1,9}$/.test(txnrText) || !/^[A-Za-z]{1,32}$/.test(command) || !/^\d{1,9}$/.test(lenText)) {
      throw new RelpProtocolError('not a RELP frame header');
    }
    const length = Number(lenText);
    if (length > MAX_RESPONSE_DATA) throw new RelpProtocolError('RELP frame too large');
    let dataStart: number;
    if (buf[lenEnd] === LF) {
      if (length !== 0) throw new RelpProtocolError('RELP frame without its data');
      this.buffer = buf.subarray(lenEnd + 1);
      return { txnr: Number(txnrText), command, data: Buffer.alloc(0) };
    } else {
      dataStart = lenEnd + 1;
    }
    // Data, then the trailer LF. Some servers end a DATALEN 0 frame with "SP LF".
    if (buf.length < dataStart + length + 1) return null;
    if (buf[dataStart + length] !== LF) throw new RelpProtocolError('RELP frame without its trailer');
    const data = Buffer.from(buf.subarray(dataStart, dataStart + length));
    this.buffer = buf.subarray(dataStart + length + 1);
    return { txnr: Number(txnrText), command, data };
  }

  /** No full header yet: fine while it could still become one. */
  private incomplete(length: number): null {
    if (length > MAX_HEADER_BYTES) throw new RelpProtocolError('not a RELP frame header');
    return null;
  }
}

export interface RelpResponse {
  readonly code: number;
  /** The lines after the first (the `open` answer's offers), or ''. */
  readonly body: string;
}

/** Reads an `rsp` frame's data: `CODE [SP TEXT] [LF DATA]`. Null when it does not start with a 3-digit code. */
export function parseRelpResponse(data: Buffer): RelpResponse | null {
  const text = data.toString('utf8');
  const match = /^(\d{3})(?:[ ][^\n]*)?(?:\n([\s\S]*))?$/.exec(text);
  if (!match) return null;
  return { code: Number(match[1]), body: match[2] ?? '' };
}

/** The server's `open` answer accepted our offers: 200, and `commands` lists `syslog`. */
export function relpOpenAccepted(response: RelpResponse): boolean {
  if (response.code !== 200) return false;
  const commands = response.body
    .split('\n')
    .find((line) => line.startsWith('commands='))
    ?.slice('commands='.length)
    .split(',');
  return commands?.includes('syslog') ?? false;
}
