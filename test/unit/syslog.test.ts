/**
 * Known answers for the audit trail's syslog form (main/core/audit/syslog.ts):
 * RFC 5424 message bytes for a given trail line, PARAM-VALUE escaping
 * (RFC 5424 6.3.3), MSGID, HOSTNAME rules, the BOM, and RFC 5425 octet
 * counting, which counts bytes, not characters.
 */
import { describe, expect, it } from 'vitest';
import {
  SYSLOG_SD_ID,
  escapeParamValue,
  formatSyslogMessage,
  frameOctetCounted,
  parseTrailRecordFields,
  structuredData,
  syslogFrameForLine,
  syslogHostname,
  syslogMsgId,
} from '../../main/core/audit/syslog';

const MAC = 'c0ffee00'.repeat(8);
const PREV = '0'.repeat(64);
// A card record as AuditLog writes it, with three non-ASCII letters (two bytes each in UTF-8).
const CARD_LINE =
  `{"seq":7,"time":"2026-03-01T09:15:00.123Z","stationId":"branch-01","operator":"Zoë Ångström","cardId":"C-1001","mode":"customer",` +
  `"profile":"gcm","outcome":"pin-set","requestStatus":"pin_set","errorCode":null,"prev":"${PREV}","mac":"${MAC}"}`;
const ORIGIN = { stationId: 'branch-01', hostname: 'teller-pc-7' };

describe('an RFC 5424 message for a trail line', () => {
  it('has the exact header, one SD element, the BOM and the line as on disk', () => {
    const line = Buffer.from(CARD_LINE, 'utf8');
    const fields = parseTrailRecordFields(line);
    expect(fields).toEqual({ seq: 7, mac: MAC, time: '2026-03-01T09:15:00.123Z' });
    const message = formatSyslogMessage(line, fields!, ORIGIN);
    const header = `<110>1 2026-03-01T09:15:00.123Z teller-pc-7 pin-station - card [pinstation@32473 station="branch-01" seq="7" mac="${MAC}"] `;
    expect(header.length).toBe(181);
    expect(message.equals(Buffer.concat([Buffer.from(header, 'ascii'), Buffer.from([0xef, 0xbb, 0xbf]), line]))).toBe(true);
    // MSG is byte for byte the line, so the collector can check its MAC.
    expect(message.subarray(184).equals(line)).toBe(true);
    expect(message.includes(0x0a)).toBe(false);
  });

  it('is framed with its length in bytes (542), not characters (537)', () => {
    const frame = syslogFrameForLine(Buffer.from(CARD_LINE, 'utf8'), ORIGIN)!;
    const text = frame.toString('utf8');
    expect(text.startsWith('542 <110>1 ')).toBe(true);
    expect(text.length - '542 '.length).toBe(537); // what a character count would have said
    expect(frame.length).toBe('542 '.length + 542);
    expect(frameOctetCounted(Buffer.from('héllo', 'utf8')).toString('utf8')).toBe('6 héllo');
  });

  it('names the record type as MSGID, "card" for card records', () => {
    const staff = `{"seq":2,"time":"2026-03-01T09:00:00.000Z","type":"staff","stationId":"branch-01","event":"sign-in","username":"ann","provider":"local","reason":null,"prev":"${PREV}","mac":"${MAC}"}`;
    const message = syslogFrameForLine(Buffer.from(staff), ORIGIN)!.toString('utf8');
    expect(message).toMatch(/^\d+ <110>1 2026-03-01T09:00:00\.000Z teller-pc-7 pin-station - staff \[pinstation@32473 station="branch-01" seq="2" mac="/);
    expect(syslogMsgId(undefined)).toBe('card');
    expect(syslogMsgId('seal')).toBe('seal');
    expect(syslogMsgId('a b\u00e9'.repeat(20))).toBe('ab'.repeat(16)); // printable ASCII only, at most 32
    expect(syslogMsgId(' ')).toBe('-');
  });

  it('escapes ", \\ and ] in PARAM-VALUEs and nothing else', () => {
    expect(escapeParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
    expect(structuredData('x"]\\', 12, 'm')).toBe(`[${SYSLOG_SD_ID} station="x\\"\\]\\\\" seq="12" mac="m"]`);
    const frame = syslogFrameForLine(Buffer.from(CARD_LINE), { stationId: 'br"an]ch', hostname: 'h' })!.toString('utf8');
    expect(frame).toContain(' [pinstation@32473 station="br\\"an\\]ch" seq="7" ');
  });

  it('keeps HOSTNAME to printable US-ASCII, at most 255 characters, or "-"', () => {
    expect(syslogHostname('Teller PC ü-7')).toBe('TellerPC-7');
    expect(syslogHostname('h'.repeat(300))).toBe('h'.repeat(255));
    expect(syslogHostname('')).toBe('-');
    expect(syslogHostname('\u00e9\t ')).toBe('-');
  });

  it('sends an unexpected time as NILVALUE rather than inventing one', () => {
    const odd = `{"seq":1,"time":"yesterday","prev":"${PREV}","mac":"${MAC}"}`;
    expect(syslogFrameForLine(Buffer.from(odd), ORIGIN)!.toString('utf8')).toMatch(/^\d+ <110>1 - teller-pc-7 pin-station - card \[/);
  });

  it('reads seq, mac, type and processor from a line, and refuses what is not a record', () => {
    const practice = `{"seq":3,"time":"2026-03-01T09:00:00.000Z","stationId":"b","operator":"o","cardId":"c","mode":"customer","profile":"gcm","processor":"sandbox","outcome":"pin-set","requestStatus":null,"errorCode":null,"prev":"${PREV}","mac":"${MAC}"}`;
    expect(parseTrailRecordFields(practice)).toEqual({ seq: 3, mac: MAC, time: '2026-03-01T09:00:00.000Z', processor: 'sandbox' });
    expect(parseTrailRecordFields('{"seq":1,"time":"x"')).toBeNull();
    expect(parseTrailRecordFields('{"seq":"1","mac":"m"}')).toBeNull();
    expect(parseTrailRecordFields('{"seq":1.5,"mac":"m"}')).toBeNull();
    expect(parseTrailRecordFields('{"seq":1}')).toBeNull();
    expect(parseTrailRecordFields('[1]')).toBeNull();
    expect(syslogFrameForLine(Buffer.from('not json'), ORIGIN)).toBeNull();
  });
});
