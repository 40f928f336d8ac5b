import { thrownStationError } from '../helpers/station-error';
import { describe, expect, it } from 'vitest';
import { PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../../common/domain';
import { ERROR_MESSAGES } from '../../common/errors';
import type { StationError } from '../../common/errors';
import { SANDBOX_BASE_URL, parseConfig, parseConfigText } from '../../main/core/config';
import type { StationConfig } from '../../main/core/config';

const DEFAULTS: StationConfig = {
  // The station ID defaults to this computer's name; its rule is tested below.
  station: { id: parseConfig({}).station.id },
  processor: { baseUrl: 'sandbox', connectTimeoutMs: 5_000, totalTimeoutMs: 20_000, retries: 2, pins: [] },
  keychain: { service: 'pin-station' },
  profile: 'public-key',
  pin: {
    minLength: 4,
    maxLength: 4,
    inactivityTimeoutMs: 30_000,
    sessionTimeoutMs: 120_000,
    rejectRepeated: true,
    rejectSequences: true,
    denyList: ['1212', '1004', '2000', '6969', '1122', '1313'],
    maxMismatches: 3,
  },
  operator: { cardIdPattern: '^[A-Za-z0-9_-]{1,64}$', language: 'en' },
  pad: {
    shuffle: true,
    language: 'en',
    display: 'secondary',
    keyboardInput: false,
    blurTimeoutMs: 10_000,
    audio: { enabled: true, outputDevice: null, voiceFolder: null },
  },
  auth: { provider: 'local', idleLockMinutes: 15, lockout: { maxFailures: 10, minutes: 30 }, mfa: 'required' },
  approval: { require: ['processor-generated', 'repeat', 'after-outcome-unknown'], repeatWindowHours: 24, validitySeconds: 120 },
  audit: {},
  log: { level: 'info' },
  sandbox: { faults: [] },
};

function expectInvalid(value: unknown, ...fragments: string[]): StationError {
  const error = thrownStationError(() => parseConfig(value));
  expect(error.code).toBe('CONFIG_INVALID');
  expect(error.message.startsWith(ERROR_MESSAGES.CONFIG_INVALID)).toBe(true);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}

describe('parseConfig defaults', () => {
  it('an empty object gives every default', () => {
    const config = parseConfig({});
    expect(config).toEqual(DEFAULTS);
    expect(config.processor.baseUrl).toBe(SANDBOX_BASE_URL);
    expect(config.keychain.service).toBe('pin-station');
    expect(config.pin.minLength).toBe(4);
    expect(config.pin.maxLength).toBe(4);
    expect(config.pad.shuffle).toBe(true);
  });

  it('null and undefined mean defaults', () => {
    expect(parseConfig(null)).toEqual(DEFAULTS);
    expect(parseConfig(undefined)).toEqual(DEFAULTS);
  });

  it('a partial section keeps the defaults of its other fields', () => {
    const config = parseConfig({ pin: { maxLength: 6 }, pad: { shuffle: false }, processor: { baseUrl: 'https://processor.example.com' } });
    expect(config.pin).toEqual({ ...DEFAULTS.pin, maxLength: 6 });
    expect(config.pad).toEqual({ ...DEFAULTS.pad, shuffle: false });
    expect(config.processor).toEqual({ ...DEFAULTS.processor, baseUrl: 'https://processor.example.com' });
    expect(config.keychain).toEqual(DEFAULTS.keychain);
  });

  it('accepts the boundary PIN lengths 4 and 12', () => {
    expect(parseConfig({ pin: { minLength: 4, maxLength: 12 } }).pin).toMatchObject({ minLength: 4, maxLength: 12 });
    expect(parseConfig({ pin: { minLength: 12, maxLength: 12 } }).pin).toMatchObject({ minLength: 12, maxLength: 12 });
  });
});

describe('parseConfigText', () => {
  it.each(['', '   ', '\n\t\n'])('empty text (%j) is the defaults', (text) => {
    expect(parseConfigText(text)).toEqual(DEFAULTS);
  });

  it('parses JSON text through the same validation', () => {
    expect(parseConfigText('{"pad":{"shuffle":false}}').pad.shuffle).toBe(false);
    expect(parseConfigText('{}')).toEqual(DEFAULTS);
  });

  it.each(['{', '{"pad":', "{'pad':{}}", 'shuffle=false', '{"a":1,}'])('invalid JSON (%s) is CONFIG_INVALID, "not valid JSON"', (text) => {
    const error = thrownStationError(() => parseConfigText(text));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('not valid JSON');
  });

  it('valid JSON with a bad field is CONFIG_INVALID naming the field', () => {
    const error = thrownStationError(() => parseConfigText('{"pin":{"minLength":3}}'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('pin.minLength');
    expect(error.message).not.toContain('not valid JSON');
  });

  it('a file saved as UTF-8 with a byte-order mark is read as if it had none', () => {
    // The bytes a Windows editor writes, decoded as the station reads the file (utf8 keeps the BOM).
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"pad":{"shuffle":false}}\r\n')]);
    expect(parseConfigText(bytes.toString('utf8')).pad.shuffle).toBe(false);
    expect(parseConfigText('\uFEFF')).toEqual(DEFAULTS);
    // Only a leading mark is dropped: one inside the text is still bad JSON.
    expect(thrownStationError(() => parseConfigText('{}\uFEFF{')).code).toBe('CONFIG_INVALID');
  });

  it('JSON null text is the defaults', () => {
    expect(parseConfigText('null')).toEqual(DEFAULTS);
  });
});

describe('parseConfig errors name the field', () => {
  it('an unknown top-level key', () => {
    expectInvalid({ procesor: { baseUrl: 'https://x.example' } }, 'procesor');
  });

  it('an unknown nested key names its section and the key', () => {
    expectInvalid({ pin: { minLenght: 6 } }, 'pin', 'minLenght');
  });

  it('pin.minLength 3 is below the PIN minimum', () => {
    expectInvalid({ pin: { minLength: 3 } }, 'pin.minLength');
  });

  it('pin.maxLength 13 is above the PIN maximum', () => {
    expectInvalid({ pin: { maxLength: 13 } }, 'pin.maxLength');
  });

  it('the PIN length limits are the ones stated once in common/domain.ts, for the length and the deny list alike', () => {
    expect([PIN_MIN_LENGTH, PIN_MAX_LENGTH]).toEqual([4, 12]);
    expect(parseConfig({ pin: { minLength: PIN_MIN_LENGTH, maxLength: PIN_MAX_LENGTH } }).pin).toMatchObject({ minLength: 4, maxLength: 12 });
    expectInvalid({ pin: { maxLength: PIN_MAX_LENGTH + 1 } }, 'pin.maxLength');
    expectInvalid({ pin: { denyList: ['123'] } }, 'pin.denyList.0', '4 to 12 digits');
    expectInvalid({ pin: { denyList: ['1234567890123'] } }, 'pin.denyList.0', '4 to 12 digits');
    expect(parseConfig({ pin: { denyList: ['0000', '123456789012'] } }).pin.denyList).toEqual(['0000', '123456789012']);
  });

  it('pad.audio.voiceFolder: absolute path or null; a relative one is refused by name', () => {
    expect(parseConfig({ pad: { audio: { voiceFolder: '/srv/bank-voice' } } }).pad.audio.voiceFolder).toBe('/srv/bank-voice');
    expect(parseConfig({ pad: { audio: { voiceFolder: null } } }).pad.audio.voiceFolder).toBeNull();
    expectInvalid({ pad: { audio: { voiceFolder: 'voice' } } }, 'pad.audio.voiceFolder', 'absolute path');
    expectInvalid({ pad: { audio: { voiceFolder: './bank/voice' } } }, 'pad.audio.voiceFolder', 'absolute path');
    expectInvalid({ pad: { audio: { voiceFolder: '' } } }, 'pad.audio.voiceFolder');
  });

  it('minLength > maxLength names pin.minLength', () => {
    expectInvalid({ pin: { minLength: 6, maxLength: 5 } }, 'pin.minLength', 'must not exceed maxLength');
  });

  it('a default maxLength of 4 with minLength 5 is also minLength > maxLength', () => {
    expectInvalid({ pin: { minLength: 5 } }, 'pin.minLength');
  });

  it.each([
    ['processor.baseUrl', { processor: { baseUrl: 42 } }],
    ['processor.baseUrl', { processor: { baseUrl: '' } }],
    ['processor.connectTimeoutMs', { processor: { connectTimeoutMs: '5000' } }],
    ['processor.totalTimeoutMs', { processor: { totalTimeoutMs: 100 } }],
    ['keychain.service', { keychain: { service: 'pin station' } }],
    ['keychain.service', { keychain: { service: 7 } }],
    ['profile', { profile: 'cbc' }],
    ['pin.minLength', { pin: { minLength: '4' } }],
    ['pin.minLength', { pin: { minLength: 4.5 } }],
    ['pin.inactivityTimeoutMs', { pin: { inactivityTimeoutMs: 999 } }],
    ['pin.sessionTimeoutMs', { pin: { sessionTimeoutMs: true } }],
    ['pad.shuffle', { pad: { shuffle: 'yes' } }],
    ['pad.shuffle', { pad: { shuffle: 1 } }],
    ['pad', { pad: 'shuffle' }],
    ['pin', { pin: [] }],
  ])('a wrong value names %s', (path, value) => {
    expectInvalid(value, `${path}:`);
  });

  it.each([
    ['an array', []],
    ['a string', 'config'],
    ['a number', 4],
  ])('a root that is %s is CONFIG_INVALID at (root)', (_name, value) => {
    expectInvalid(value, '(root)');
  });

  it('several bad fields are all named', () => {
    const error = expectInvalid({ pin: { minLength: 3 }, pad: { shuffle: 'no' } }, 'pin.minLength', 'pad.shuffle');
    expect(error.message.split(';').length).toBeGreaterThanOrEqual(2);
  });
});

describe('station ID', () => {
  it('defaults to a valid ID derived from the computer name, and can be configured', () => {
    expect(parseConfig({}).station.id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(parseConfig({ station: { id: 'branch-12.desk-3' } }).station.id).toBe('branch-12.desk-3');
    expect(() => parseConfig({ station: { id: 'desk 3' } })).toThrow(/station\.id/);
  });
});

describe('single sign-on second factor (auth.oidc.mfa)', () => {
  const oidc = { issuer: 'https://idp.bank.example', clientId: 'pin-station' };

  it('is on by default, with the RFC 8176 multi-factor methods and no acr_values', () => {
    const { auth } = parseConfig({ auth: { provider: 'oidc', oidc } });
    expect(auth.oidc).toMatchObject({ mfa: true, mfaAmr: ['mfa', 'otp', 'hwk', 'swk'] });
    expect(auth.oidc?.acrValues).toBeUndefined();
  });

  it('can be off only together with auth.mfa "off"', () => {
    expectInvalid({ auth: { provider: 'oidc', oidc: { ...oidc, mfa: false } } }, 'auth.oidc.mfa', 'auth.mfa "off"');
    expect(parseConfig({ auth: { provider: 'oidc', mfa: 'off', oidc: { ...oidc, mfa: false } } }).auth.oidc?.mfa).toBe(false);
  });

  it('refuses an empty mfaAmr and an acr value with a space (acr_values is space-separated)', () => {
    expectInvalid({ auth: { provider: 'oidc', oidc: { ...oidc, mfaAmr: [] } } }, 'auth.oidc.mfaAmr');
    expectInvalid({ auth: { provider: 'oidc', oidc: { ...oidc, acrValues: ['urn:a urn:b'] } } }, 'auth.oidc.acrValues');
  });

  it('refuses an mfaAmr that a password alone would satisfy', () => {
    for (const method of ['pwd', 'pin', 'kba', 'user', 'wia', 'rba']) {
      expectInvalid({ auth: { provider: 'oidc', oidc: { ...oidc, mfaAmr: ['otp', method] } } }, 'auth.oidc.mfaAmr');
    }
    expect(parseConfig({ auth: { provider: 'oidc', oidc: { ...oidc, mfaAmr: ['hwk', 'fido'] } } }).auth.oidc?.mfaAmr).toEqual(['hwk', 'fido']);
  });
});
