/** RELP's wire format (main/core/audit/relp.ts): frames as librelp writes and reads them, byte for byte. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/core/config';
import {
  RELP_MAX_TXNR,
  RELP_OPEN_OFFERS,
  RelpFrameReader,
  RelpProtocolError,
  nextTxnr,
  parseRelpResponse,
  relpFrame,
  relpOpenAccepted,
} from '../../main/core/audit/relp';

describe('RELP frames', () => {
  it('writes open, syslog and close as "TXNR COMMAND DATALEN [DATA]" and a newline, DATALEN in bytes', () => {
    expect(relpFrame(1, 'open', Buffer.from(RELP_OPEN_OFFERS)).toString()).toBe('1 open 56 relp_version=0\nrelp_software=pin-station\ncommands=syslog\n');
    expect(relpFrame(7, 'syslog', Buffer.from('<110>1 é', 'utf8')).toString('utf8')).toBe('7 syslog 9 <110>1 é\n');
    expect(relpFrame(8, 'close').toString()).toBe('8 close 0\n');
  });

  it('numbers transactions 1..999999999, then 1 again', () => {
    expect(nextTxnr(1)).toBe(2);
    expect(nextTxnr(RELP_MAX_TXNR)).toBe(1);
  });

  it('reads answers however the bytes are split, including serverclose without data', () => {
    const stream = Buffer.from(
      '1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n0 serverclose 0\n',
    );
    for (const size of [1, 3, 7, stream.length]) {
      const reader = new RelpFrameReader();
      const frames = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...reader.push(stream.subarray(i, i + size)));
      expect(frames.map((frame) => [frame.txnr, frame.command, frame.data.toString()])).toEqual([
        [1, 'rsp', '200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog'],
        [2, 'rsp', '200 OK'],
        [0, 'serverclose', ''],
      ]);
    }
  });

  it('refuses bytes that are not RELP, a frame without its trailer and an answer larger than any can be', () => {
    expect(() => new RelpFrameReader().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(RelpProtocolError);
    expect(() => new RelpFrameReader().push(Buffer.from('2 rsp 6 200 OKX'))).toThrow(RelpProtocolError);
    expect(() => new RelpFrameReader().push(Buffer.from('2 rsp 9999999 '))).toThrow(RelpProtocolError);
    expect(() => new RelpFrameReader().push(Buffer.from('x'.repeat(100)))).toThrow(RelpProtocolError);
  });

  it('reads an answer: code, and the offers after the first line; the open is accepted only with 200 and the syslog command', () => {
    const open = parseRelpResponse(Buffer.from('200 OK\nrelp_version=0\ncommands=syslog'));
    expect(open).toEqual({ code: 200, body: 'relp_version=0\ncommands=syslog' });
    expect(open && relpOpenAccepted(open)).toBe(true);
    expect(relpOpenAccepted({ code: 200, body: 'relp_version=0\ncommands=other' })).toBe(false);
    expect(relpOpenAccepted({ code: 500, body: 'commands=syslog' })).toBe(false);
    expect(parseRelpResponse(Buffer.from('500 error: queue full'))).toEqual({ code: 500, body: '' });
    expect(parseRelpResponse(Buffer.from('OK'))).toBeNull();
  });
});

describe('audit.ship settings', () => {
  const base = { host: 'siem.bank.example', caFile: '/etc/pin-station/siem-ca.pem' };
  it('keeps syslog-tls the default, so an existing configuration starts as before', () => {
    expect(parseConfig({ audit: { ship: base } }).audit.ship).toMatchObject({ protocol: 'syslog-tls', port: 6514, ackTimeoutSeconds: 30 });
  });
  it('relp needs certFile, the certificate whose key is the keychain entry ship-key', () => {
    expect(() => parseConfig({ audit: { ship: { ...base, protocol: 'relp' } } })).toThrow(/certFile/);
    expect(parseConfig({ audit: { ship: { ...base, protocol: 'relp', port: 2514, certFile: '/etc/pin-station/station.pem' } } }).audit.ship).toMatchObject({
      protocol: 'relp',
      certFile: '/etc/pin-station/station.pem',
    });
  });
});
