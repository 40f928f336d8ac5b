/**
 * Known answers for the audit trail's record form (main/core/audit/format.ts): one fixed record of every type,
 * signed with a fixed key, must give exactly these bytes and this MAC. Trails written by earlier versions verify
 * only while these hold, so a change to a field list, its order or the MAC's input shows here first.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS, checkLine, signRecord } from '../../main/core/audit/format';
import type { AuditLine } from '../../main/core/audit/format';
import { MAC_FIELD_ORDER, RECORD_SCHEMAS, entryRecordSchema, sealRecordSchema } from '../../main/core/audit/records';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const CHAIN = { seq: 7, time: '2026-01-02T03:04:05.678Z', prev: AUDIT_GENESIS };

const records: Record<string, Omit<AuditLine, 'mac'>> = {
  card: {
    ...CHAIN,
    stationId: 'branch-01',
    operator: 'alice',
    cardId: 'CARD-1',
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: 'ok',
    errorCode: null,
  },
  'card (approved, sandbox, attempt)': {
    ...CHAIN,
    stationId: 'branch-01',
    operator: 'alice',
    cardId: 'CARD-1',
    mode: 'processor',
    profile: 'rsa-oaep',
    processor: 'sandbox',
    outcome: 'outcome-unknown',
    requestStatus: null,
    errorCode: 'STATION_STOPPED',
    approver: 'bob',
    approvalMethod: 'password',
    approvalRule: 'repeat',
    approvalReason: 'second card',
    previousAttempt: 3,
    attemptId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  },
  seal: { ...CHAIN, type: 'seal', tornBytes: 12, tornSha256: 'ab'.repeat(32) },
  reset: {
    ...CHAIN,
    type: 'reset',
    cause: 'trail-shorter',
    lostFrom: 5,
    lostTo: 9,
    markSeq: 9,
    markMac: 'cd'.repeat(32),
    keptAs: 'audit.jsonl.lost-1',
    acknowledgedBy: 'root',
  },
  staff: {
    ...CHAIN,
    type: 'staff',
    stationId: 'branch-01',
    event: 'sign-in',
    username: 'alice',
    provider: 'local',
    reason: null,
    factor: 'totp',
    processor: 'sandbox',
  },
  approval: {
    ...CHAIN,
    type: 'approval',
    stationId: 'branch-01',
    event: 'granted',
    rule: 'repeat',
    cardId: 'CARD-1',
    operator: 'alice',
    approver: 'bob',
    method: 'sso',
    reason: null,
    errorCode: null,
    factor: 'idp',
  },
  export: { ...CHAIN, type: 'export', stationId: 'branch-01', username: 'carol', format: 'csv', records: 42 },
  attempt: {
    ...CHAIN,
    type: 'attempt',
    stationId: 'branch-01',
    attemptId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    operator: 'alice',
    cardId: 'CARD-1',
    mode: 'customer',
    profile: 'gcm',
    approver: 'bob',
  },
  'key-load': {
    ...CHAIN,
    type: 'key-load',
    stationId: 'branch-01',
    account: 'pin-key',
    components: 2,
    custodians: ['Ann', 'Ben'],
    componentKcvs: ['0123456789', 'ABCDEF0123'],
    keyKcv: '9876543210',
    keyKcvLegacy: 'A1B2C3',
  },
  policy: {
    ...CHAIN,
    type: 'policy',
    stationId: 'branch-01',
    event: 'applied',
    location: '/etc/pin-station/policy.json',
    changes: ['pin.minLength: 4 -> 6 (next card)'],
    reason: null,
  },
  'processor-key': {
    ...CHAIN,
    type: 'processor-key',
    stationId: 'branch-01',
    event: 'promoted',
    cause: 'promote',
    oldKcv: null,
    newKcv: '0123456789',
    notAfter: '2027-01-01T00:00:00.000Z',
  },
  'staff-admin': {
    ...CHAIN,
    type: 'staff-admin',
    stationId: 'branch-01',
    action: 'roles',
    username: 'alice',
    rolesBefore: ['operator'],
    rolesAfter: ['operator', 'supervisor'],
    osUser: 'root',
  },
  'ship-refused': { ...CHAIN, type: 'ship-refused', stationId: 'branch-01', lineSeq: 3, reason: 'MAC_MISMATCH' },
} as Record<string, Omit<AuditLine, 'mac'>>;

const expected: Record<string, string> = {
  card: '{"seq":7,"time":"2026-01-02T03:04:05.678Z","stationId":"branch-01","operator":"alice","cardId":"CARD-1","mode":"customer","profile":"gcm","outcome":"pin-set","requestStatus":"ok","errorCode":null,"prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"7666d30fc70eda6088c81fe975d7bb4f84c12e4c0dc86e3d7aa97957d1458bda"}',
  'card (approved, sandbox, attempt)':
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","stationId":"branch-01","operator":"alice","cardId":"CARD-1","mode":"processor","profile":"rsa-oaep","processor":"sandbox","outcome":"outcome-unknown","requestStatus":null,"errorCode":"STATION_STOPPED","approver":"bob","approvalMethod":"password","approvalRule":"repeat","approvalReason":"second card","previousAttempt":3,"attemptId":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"40ae1b281b79893eb4e0edd7dcc3e599c7fd78f20818843dfc2ce5cdff9afb1a"}',
  seal: '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"seal","tornBytes":12,"tornSha256":"abababababababababababababababababababababababababababababababab","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"14af3ee19fa61c17b1927f2cc396b4f93dd80d1dc3d26200174a7d197e66eea6"}',
  reset:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"reset","cause":"trail-shorter","lostFrom":5,"lostTo":9,"markSeq":9,"markMac":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","keptAs":"audit.jsonl.lost-1","acknowledgedBy":"root","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"2029bf773932a45e5c306f7ffa0791e05869e471433f8ff4eb5a044fd1c28859"}',
  staff:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"staff","stationId":"branch-01","event":"sign-in","username":"alice","provider":"local","reason":null,"factor":"totp","processor":"sandbox","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"9dbde57fb6d7ad2a1650f62ea7e124bcb7d2d54a1c9a0031db1cb3364abef1ee"}',
  approval:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"approval","stationId":"branch-01","event":"granted","rule":"repeat","cardId":"CARD-1","operator":"alice","approver":"bob","method":"sso","reason":null,"errorCode":null,"factor":"idp","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"8d17f0b247945d023657a03f635b9aa193513e75ae6762c97094e4e9b2fbeecb"}',
  export:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"export","stationId":"branch-01","username":"carol","format":"csv","records":42,"prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"0139b01ab4d5990574fb9a000cd6e9c8d02958c42a742d79abefe300fb4e9f61"}',
  attempt:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"attempt","stationId":"branch-01","attemptId":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","operator":"alice","cardId":"CARD-1","mode":"customer","profile":"gcm","approver":"bob","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"bfee74dccecc58f5732d4595114b83ca056a97b4470b3317037c36005a793e91"}',
  'key-load':
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"key-load","stationId":"branch-01","account":"pin-key","components":2,"custodians":["Ann","Ben"],"componentKcvs":["0123456789","ABCDEF0123"],"keyKcv":"9876543210","keyKcvLegacy":"A1B2C3","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"e0276bac73375ccebd0caad88394bfc88ba48d8f02cb2d7f179afaa85cb275b9"}',
  policy:
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"policy","stationId":"branch-01","event":"applied","location":"/etc/pin-station/policy.json","changes":["pin.minLength: 4 -> 6 (next card)"],"reason":null,"prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"e984d9782eb0c05636765f7a1d622ad6d617f939f820589cb428b725a3b508f6"}',
  'processor-key':
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"processor-key","stationId":"branch-01","event":"promoted","cause":"promote","oldKcv":null,"newKcv":"0123456789","notAfter":"2027-01-01T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"f0f097faacfa424d07ffee4dd97ba499d4f26c4251b64703043fb954c2870350"}',
  'staff-admin':
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"staff-admin","stationId":"branch-01","action":"roles","username":"alice","rolesBefore":["operator"],"rolesAfter":["operator","supervisor"],"osUser":"root","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"2991e584477103d554fd03f5cafbebf0fdf20599a8e9c1bdd18bcad721210f36"}',
  'ship-refused':
    '{"seq":7,"time":"2026-01-02T03:04:05.678Z","type":"ship-refused","stationId":"branch-01","lineSeq":3,"reason":"MAC_MISMATCH","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"9496c416b4ca381bfc91a3b1e16c98e1b019ccab582382589ea15c41f7881585"}',
};

describe('audit record MACs (known answers)', () => {
  for (const [name, unsigned] of Object.entries(records)) {
    it(`${name}: the same bytes and MAC as every earlier version, and it verifies`, () => {
      const { line } = signRecord(unsigned, KEY);
      expect(line).toBe(expected[name]);
      const check = checkLine(Buffer.from(line, 'utf8'), KEY);
      expect(check.ok).toBe(true);
    });
  }
});

describe('the MAC field order', () => {
  it('names every field of each record type exactly once, mac aside (a field the order missed would never be covered)', () => {
    const schemas: Record<string, unknown> = { ...RECORD_SCHEMAS, card: entryRecordSchema, seal: sealRecordSchema };
    expect(Object.keys(MAC_FIELD_ORDER).sort()).toEqual(Object.keys(schemas).sort());
    for (const [type, order] of Object.entries(MAC_FIELD_ORDER)) {
      const shape = (schemas[type] as { shape: Record<string, unknown> }).shape;
      expect(new Set(order).size, type).toBe(order.length);
      expect([...order, 'mac'].sort(), type).toEqual(Object.keys(shape).sort());
    }
  });
});
