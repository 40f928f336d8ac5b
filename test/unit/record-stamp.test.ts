/**
 * Every record the station writes is stamped in one place (main/core/station-records.ts): its station ID and, on
 * a practice station (the sandbox processor), the practice marker, only on record types whose schema has one. The
 * staff session, the approval desk, the shipper's refusals and the admin commands' records all go through it.
 */
import { describe, expect, it } from 'vitest';
import type { AuditInput, AuditStaffEntry } from '../../main/core/audit';
import { validateAuditEntry } from '../../main/core/audit';
import { parseConfig } from '../../main/core/config';
import { stampRecord } from '../../main/core/station-records';
import type { Unstamped } from '../../main/core/station-records';
import { signedInStaff } from '../helpers/staff';

const practice = parseConfig({ station: { id: 'branch-07' }, processor: { baseUrl: 'sandbox' } });
const real = parseConfig({ station: { id: 'branch-07' }, processor: { baseUrl: 'https://processor.example' } });

const records: readonly Unstamped<AuditInput>[] = [
  { operator: 'ann', cardId: 'CARD-1', mode: 'customer', profile: 'gcm', outcome: 'pin-set', requestStatus: 'ok', errorCode: null },
  { type: 'staff', event: 'sign-in', username: 'ann', provider: 'local', reason: null },
  { type: 'policy', event: 'applied', location: '/etc/pin-station/policy.json', changes: [], reason: null },
  {
    type: 'key-load',
    account: 'pin-key',
    components: 2,
    custodians: ['Ann', 'Bob'],
    componentKcvs: ['0123456789', 'ABCDEF0123'],
    keyKcv: '1111111111',
    keyKcvLegacy: '222222',
  },
  { type: 'staff-admin', action: 'add', username: 'ann', rolesBefore: null, rolesAfter: ['operator'], osUser: 'root' },
  { type: 'ship-refused', lineSeq: 3, reason: 'MAC_MISMATCH' },
];
const UNMARKED = ['key-load', 'staff-admin', 'ship-refused'];

describe('the station stamp on a record', () => {
  it("names the station, and marks a practice station's records where their type carries the marker; every stamped record is accepted", () => {
    for (const record of records) {
      const type = ('type' in record ? record.type : undefined) ?? 'card';
      const onPractice = stampRecord(practice, record);
      expect(onPractice.stationId).toBe('branch-07');
      expect([type, onPractice.processor]).toEqual([type, UNMARKED.includes(type) ? undefined : 'sandbox']);
      expect(() => validateAuditEntry(onPractice)).not.toThrow();
      const onReal = stampRecord(real, record);
      expect([type, onReal.stationId, 'processor' in onReal]).toEqual([type, 'branch-07', false]);
      expect(() => validateAuditEntry(onReal)).not.toThrow();
    }
  });

  it("the staff session's records carry the station's stamp", async () => {
    const written: AuditStaffEntry[] = [];
    const audit = { append: async (entry: AuditStaffEntry) => written.push(entry) };
    const session = await signedInStaff(['operator'], 'op.one', { audit, sandbox: true });
    await session.signOut();
    expect(written.map((entry) => [entry.event, entry.stationId, entry.processor])).toEqual([
      ['sign-in', 'test-station', 'sandbox'],
      ['sign-out', 'test-station', 'sandbox'],
    ]);
  });
});
