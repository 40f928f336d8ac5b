/**
 * One trail line as an RFC 5424 syslog message, framed for RFC 5425 (syslog
 * over TLS, octet counting). Pure functions: the shipper (./ship.ts) reads
 * the lines, these turn them into bytes.
 *
 *   <110>1 TIMESTAMP HOSTNAME pin-station - MSGID [pinstation@32473 station="…" seq="…" mac="…"] BOM{line}
 *
 * PRI 110 is facility 13 ("log audit") and severity 6 (informational). MSG is
 * the record's exact JSON line as on disk (without its newline) after a UTF-8
 * BOM, so the collector can check the record's MAC chain byte for byte.
 */

/**
 * The structured-data ID. 32473 is the private enterprise number RFC 5612
 * reserves for documentation; a bank may register its own PEN with IANA and
 * put it here.
 */
export const SYSLOG_SD_ID = 'pinstation@32473';
export const SYSLOG_APP_NAME = 'pin-station';
/** Facility 13 (log audit) × 8 + severity 6 (informational). */
export const SYSLOG_PRI = 13 * 8 + 6;
export const SYSLOG_NILVALUE = '-';
/** MSG is UTF-8 text, which RFC 5424 (6.4) marks with a BOM. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** What the formatter needs from a trail record. */
export interface TrailRecordFields {
  readonly seq: number;
  readonly mac: string;
  readonly time: string;
  /** Absent for card records (they came before record types). */
  readonly type?: string;
  /** "sandbox" marks a practice record, which is never shipped. */
  readonly processor?: string;
}

/** Who sends: the station's ID and the computer's name. */
export interface SyslogOrigin {
  readonly stationId: string;
  readonly hostname: string;
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

/** Keeps printable US-ASCII (33..126) only, at most `max` characters; NILVALUE when nothing is left. */
function printableAscii(value: string, max: number): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 33 && code <= 126) out += ch;
    if (out.length >= max) break;
  }
  return out === '' ? SYSLOG_NILVALUE : out;
}

/** RFC 5424 HOSTNAME: printable US-ASCII, at most 255 characters, or "-". */
export function syslogHostname(name: string): string {
  return printableAscii(name, 255);
}

/** RFC 5424 MSGID: the record's type, or "card" for card records (which have none); at most 32 characters. */
export function syslogMsgId(type: string | undefined): string {
  return printableAscii(type ?? 'card', 32);
}

/** RFC 5424 6.3.3: inside a PARAM-VALUE, '"', '\' and ']' are escaped with a backslash. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (ch) => `\\${ch}`);
}

/** The one SD-ELEMENT: station, seq and mac, so the collector can spot a resent record (station + seq). */
export function structuredData(stationId: string, seq: number, mac: string): string {
  return `[${SYSLOG_SD_ID} station="${escapeParamValue(stationId)}" seq="${escapeParamValue(String(seq))}" mac="${escapeParamValue(mac)}"]`;
}

/**
 * The fields shipping needs from one trail line (without its newline), or
 * null when the line is not a record: not JSON, or no integer `seq` or string
 * `mac`. Nothing else is checked here (the shipper holds no key).
 */
export function parseTrailRecordFields(line: Buffer | string): TrailRecordFields | null {
  let value: unknown;
  try {
    value = JSON.parse(typeof line === 'string' ? line : line.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { seq, mac, time, type, processor } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof mac !== 'string') return null;
  return {
    seq,
    mac,
    time: typeof time === 'string' ? time : '',
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof processor === 'string' ? { processor } : {}),
  };
}

/** The RFC 5424 message for one trail line (the line's exact bytes, without its newline). */
export function formatSyslogMessage(line: Buffer, record: TrailRecordFields, origin: SyslogOrigin): Buffer {
  // The trail's time is RFC 3339 UTC with milliseconds already; anything else is sent as NILVALUE rather than invented.
  const timestamp = RFC3339_UTC.test(record.time) ? record.time : SYSLOG_NILVALUE;
  const header =
    `<${SYSLOG_PRI}>1 ${timestamp} ${syslogHostname(origin.hostname)} ${SYSLOG_APP_NAME} ${SYSLOG_NILVALUE} ${syslogMsgId(record.type)} ` +
    `${structuredData(origin.stationId, record.seq, record.mac)} `;
  return Buffer.concat([Buffer.from(header, 'utf8'), UTF8_BOM, line]);
}

/** RFC 5425 octet counting: MSG-LEN (in bytes, not characters) SP message. */
export function frameOctetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** Formats and frames one trail line; null when the line is not a record (see parseTrailRecordFields). */
export function syslogFrameForLine(line: Buffer, origin: SyslogOrigin): Buffer | null {
  const record = parseTrailRecordFields(line);
  return record === null ? null : frameOctetCounted(formatSyslogMessage(line, record, origin));
}
