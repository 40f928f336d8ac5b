/** Station configuration: one JSON file, validated field by field with defaults. */
import { z } from 'zod';
import { StationError } from '../../common/errors';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { LOG_LEVELS } from './log';
import { compileCardIdPattern, DEFAULT_CARD_ID_PATTERN } from '../../common/card-id';
import { LANGUAGES, PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../../common/domain';
import { DEFAULT_KEYCHAIN_SERVICE, DEFAULT_PROFILE, LEGACY_PROFILE_NAMES, NAME_PATTERN, NAME_RULE, PROFILE_NAMES } from '../../common/domain';
import type { ProfileName } from '../../common/domain';
import { APPROVAL_RULES, AUTH_PROVIDERS, ROLES } from '../../common/staff';
import { parseJsonText, withoutBom } from './json-text';

/** `baseUrl: "sandbox"` runs the embedded processor emulator with keys of its own. */
export const SANDBOX_BASE_URL = 'sandbox';
/** The longest `approval.repeatWindowHours` a config or policy may set; the card history keeps what it can ask for. */
export const MAX_REPEAT_WINDOW_HOURS = 720;

/** The practice marker every audit record carries when the emulator is the processor, stated once. */
export function practiceMark(sandbox: boolean | undefined): { readonly processor?: 'sandbox' } {
  return sandbox ? { processor: 'sandbox' } : {};
}

const SPKI_SHA256 = z.string().regex(/^[0-9A-Fa-f]{64}$/, "SHA-256 of the key's DER SubjectPublicKeyInfo, 64 hex characters");
const LEGACY_NAMES = Object.keys(LEGACY_PROFILE_NAMES) as (keyof typeof LEGACY_PROFILE_NAMES)[];

const pinLength = z.number().int().min(PIN_MIN_LENGTH).max(PIN_MAX_LENGTH);

/** The default station ID: this computer's name, reduced to the characters an ID may hold. */
function defaultStationId(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) || 'station'
  );
}

/** Faults the embedded sandbox injects, one per set_pin request (sandbox/processor.ts SandboxFault). */
const sandboxFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('latency'), ms: z.number().int().min(0).max(120_000) }),
  z.strictObject({ kind: z.literal('reset-before-body') }),
  z.strictObject({ kind: z.literal('reset-after-body') }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('http'), status: z.number().int().min(300).max(599) }),
  z.strictObject({ kind: z.literal('non-json') }),
  z.strictObject({ kind: z.literal('wrong-shape') }),
  z.strictObject({ kind: z.literal('status-error'), requestStatus: z.string().min(1).max(100) }),
  z.strictObject({ kind: z.literal('invalid-dt') }),
]);

/** Where the groups that map to each role come from, for `auth.provider: "oidc"`. */
/** RFC 8176 methods that a single-factor sign-in shows on its own (see mfaAmr). */
const SINGLE_FACTOR_AMR: readonly string[] = ['pwd', 'pin', 'kba', 'user', 'wia', 'rba'];

const oidcSchema = z.strictObject({
  /** The identity provider's issuer URL (HTTPS; plain HTTP only on this computer, for tests). */
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope token'))
    .min(1)
    .max(20)
    .default(['openid', 'profile'])
    .refine((scopes) => scopes.includes('openid'), 'must include "openid"'),
  /** The ID-token claim that lists the person's groups. */
  groupsClaim: z.string().min(1).max(128).default('groups'),
  /** The ID-token claim shown and audited as the user name. */
  usernameClaim: z.string().min(1).max(128).default('preferred_username'),
  /** Group names that grant each role; a person in none of them cannot sign in. */
  roleGroups: z
    .strictObject(
      Object.fromEntries(ROLES.map((role) => [role, z.array(z.string().min(1).max(256)).max(50).default([])])) as {
        [R in (typeof ROLES)[number]]: z.ZodDefault<z.ZodArray<z.ZodString>>;
      },
    )
    .prefault({}),
  /** Tolerated clock difference with the identity provider when checking token times. */
  clockSkewSeconds: z.number().int().min(0).max(300).default(60),
  /** How long the browser sign-in may take before the station gives up waiting. */
  timeoutSeconds: z.number().int().min(10).max(900).default(300),
  /**
   * PCI DSS 8.4.2 for single sign-on: the ID token must show a second factor (amr or acr below). On by default;
   * false only together with auth.mfa "off", the same documented exception as for local accounts.
   */
  mfa: z.boolean().default(true),
  /**
   * Authentication methods (RFC 8176 amr values) that count as multi-factor. A method every password-only sign-in
   * shows (a knowledge factor, presence, a domain sign-in, a risk score) can never count: listing one would let a
   * password alone through.
   */
  mfaAmr: z
    .array(
      z
        .string()
        .min(1)
        .max(64)
        .refine(
          (method) => !SINGLE_FACTOR_AMR.includes(method),
          'an amr value that a password-only sign-in shows (pwd, pin, kba, user, wia, rba) cannot count as a second factor',
        ),
    )
    .min(1)
    .max(20)
    .default(['mfa', 'otp', 'hwk', 'swk']),
  /** Asked for as acr_values; an ID token whose acr is one of them counts as multi-factor. */
  acrValues: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, 'an acr value'))
    .min(1)
    .max(10)
    .optional(),
});

const authSchema = z
  .strictObject({
    provider: z.enum(AUTH_PROVIDERS).default('local'),
    /** PCI DSS 8.2.8: at most 15 minutes. Fractions are allowed (tests use seconds). */
    idleLockMinutes: z.number().min(0.05).max(15).default(15),
    lockout: z
      .strictObject({
        /** PCI DSS 8.3.4: at most 10 attempts... */
        maxFailures: z.number().int().min(1).max(10).default(10),
        /** ...and locked for at least 30 minutes. */
        minutes: z.number().int().min(30).max(1440).default(30),
      })
      .prefault({}),
    /**
     * PCI DSS 8.4.2: a second factor (TOTP) at every local sign-in, unlock and approval. "off" only for a
     * bank that documents a compensating control; a managed policy can force "required".
     */
    mfa: z.enum(['required', 'off']).default('required'),
    oidc: oidcSchema.optional(),
  })
  .prefault({})
  .refine((auth) => auth.provider !== 'oidc' || auth.oidc !== undefined, { message: 'auth.oidc is required when provider is "oidc"', path: ['oidc'] })
  .refine((auth) => auth.mfa === 'off' || auth.oidc?.mfa !== false, {
    message: 'can be false only with auth.mfa "off" (a documented compensating control)',
    path: ['oidc', 'mfa'],
  });

export const configSchema = z
  .strictObject({
    station: z
      .strictObject({
        id: z.string().regex(NAME_PATTERN, NAME_RULE).default(defaultStationId),
      })
      .prefault({}),
    processor: z
      .strictObject({
        baseUrl: z.string().min(1).default(SANDBOX_BASE_URL),
        connectTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
        totalTimeoutMs: z.number().int().min(500).max(120_000).default(20_000),
        /** Retries when the connection is refused or the name does not resolve (nothing was sent). */
        retries: z.number().int().min(0).max(5).default(2),
        /** SPKI pins: base64 SHA-256 of the processor key's SubjectPublicKeyInfo. */
        pins: z
          .array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 SHA-256 (44 characters)'))
          .max(10)
          .default([]),
        /** PEM file of an extra CA to trust for the processor (e.g. a private CA). */
        caFile: z.string().min(1).optional(),
        /**
         * The processor's PIN-encryption key, pinned: SHA-256 of its DER SubjectPublicKeyInfo (64 hex; the keys
         * CLI's KCV is its first 10). A list during a rotation (the current and the next key). Best set by policy.
         */
        publicKeySha256: z.union([SPKI_SHA256, z.array(SPKI_SHA256).min(1).max(4)]).optional(),
      })
      .prefault({}),
    keychain: z
      .strictObject({
        service: z.string().regex(NAME_PATTERN, NAME_RULE).default(DEFAULT_KEYCHAIN_SERVICE),
      })
      .prefault({}),
    profile: z
      .enum([...PROFILE_NAMES, ...LEGACY_NAMES])
      .default(DEFAULT_PROFILE)
      .transform((name): ProfileName =>
        name in LEGACY_PROFILE_NAMES ? LEGACY_PROFILE_NAMES[name as keyof typeof LEGACY_PROFILE_NAMES] : (name as ProfileName),
      ),
    pin: z
      .strictObject({
        minLength: pinLength.default(4),
        maxLength: pinLength.default(4),
        inactivityTimeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
        sessionTimeoutMs: z.number().int().min(1_000).max(1_800_000).default(120_000),
        rejectRepeated: z.boolean().default(true),
        rejectSequences: z.boolean().default(true),
        denyList: z
          .array(z.string().regex(new RegExp(`^\\d{${PIN_MIN_LENGTH},${PIN_MAX_LENGTH}}$`), `${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} digits`))
          .max(1000)
          .default(['1212', '1004', '2000', '6969', '1122', '1313']),
        maxMismatches: z.number().int().min(1).max(10).default(3),
      })
      .prefault({})
      .refine((pin) => pin.minLength <= pin.maxLength, { message: 'minLength must not exceed maxLength', path: ['minLength'] }),
    operator: z
      .strictObject({
        cardIdPattern: z
          .string()
          .refine((source) => compileCardIdPattern(source) !== null, 'must be a valid regular expression anchored with ^ and $')
          .default(DEFAULT_CARD_ID_PATTERN),
        language: z.enum(LANGUAGES).default('en'),
      })
      .prefault({}),
    pad: z
      .strictObject({
        shuffle: z.boolean().default(true),
        language: z.enum(LANGUAGES).default('en'),
        /** Where the customer-facing pad goes; falls back to the primary display with a notice. */
        display: z.union([z.enum(['primary', 'secondary']), z.number().int().min(0).max(15)]).default('secondary'),
        /**
         * True only for a pad display with its own keypad: the pad then takes keyboard input and focus.
         * False: touch and mouse only, and the pad never takes keyboard focus from the operator window.
         */
        keyboardInput: z.boolean().default(false),
        /** With keyboardInput: entry is wiped when the pad window stays out of focus this long. */
        blurTimeoutMs: z.number().int().min(1_000).max(600_000).default(10_000),
        /** Spoken guidance for blind and partially sighted cardholders, offered per card (docs/architecture.md, "Audio guidance"). */
        audio: z
          .strictObject({
            enabled: z.boolean().default(true),
            /** The pad's own output (headphone jack, USB handset) by its device label; never the default device. */
            outputDevice: z.string().trim().min(1).max(200).nullable().default(null),
            /**
             * A bank's own recordings: a folder of <language>/<cue>.opus files that replace the built-in clips of the
             * same name (any clip it lacks stays built-in). Absolute: a relative path would depend on where the app started.
             */
            voiceFolder: z
              .string()
              .min(1)
              .max(1024)
              .refine((folder) => isAbsolute(folder), 'must be an absolute path (a folder of <language>/<cue>.opus files)')
              .nullable()
              .default(null),
          })
          .prefault({}),
      })
      .prefault({}),
    auth: authSchema,
    /** Dual control: which Starts need a supervisor's approval in the operator window before the pad opens. */
    approval: z
      .strictObject({
        require: z
          .array(z.enum(APPROVAL_RULES))
          .max(APPROVAL_RULES.length)
          .default(['processor-generated', 'repeat', 'after-outcome-unknown'])
          .refine((rules) => new Set(rules).size === rules.length, 'each rule once'),
        repeatWindowHours: z.number().int().min(1).max(MAX_REPEAT_WINDOW_HOURS).default(24),
        /** How long an approval may wait for its Start: at most 120 s. */
        validitySeconds: z.number().int().min(5).max(120).default(120),
      })
      .prefault({}),
    /** The audit trail: where a copy of every record goes (the bank's SIEM, through a syslog collector). */
    audit: z
      .strictObject({
        /** Records to the collector over TLS (RELP, or RFC 5424 over TLS as in RFC 5425); absent means records stay on this computer only. */
        ship: z
          .strictObject({
            /**
             * `relp` (recommended): the collector answers each record, so a collector that is up but not taking
             * records is noticed and nothing is committed before it has it; needs certFile and the keychain's
             * `ship-key`. `syslog-tls` (the default, for collectors without RELP): no answers.
             */
            protocol: z.enum(['relp', 'syslog-tls']).default('syslog-tls'),
            /** The collector's DNS name (checked against its certificate) or IP address. */
            host: z
              .string()
              .min(1)
              .max(253)
              .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
            /** 6514 is syslog over TLS's registered port. */
            port: z.number().int().min(1).max(65_535).default(6514),
            /** PEM file of the CA that issued the collector's certificate. Only this CA is trusted for it. */
            caFile: z.string().min(1),
            /** Optional: the collector certificate's SHA-256 fingerprint (as openssl x509 -fingerprint -sha256 prints it). */
            fingerprintSha256: z
              .string()
              .regex(/^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$/, '32 bytes in hex, colons optional')
              .optional(),
            /** How long records may wait before the operator window says shipping is delayed. */
            noticeAfterMinutes: z.number().min(0).max(1440).default(15),
            /** The station's certificate (PEM), presented to the collector; its private key is the keychain's `ship-key`. Required with relp. */
            certFile: z.string().min(1).optional(),
            /** relp: how long the collector may leave a record unanswered before the connection is given up and the record sent again. */
            ackTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
          })
          .refine((ship) => ship.protocol !== 'relp' || ship.certFile !== undefined, {
            message: 'relp needs certFile (the station presents a certificate; its key is the keychain entry "ship-key")',
            path: ['certFile'],
          })
          .optional(),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
    /** Only with processor.baseUrl "sandbox": faults to rehearse what the operator sees. */
    sandbox: z.strictObject({ faults: z.array(sandboxFaultSchema).max(100).default([]) }).prefault({}),
  })
  // A pin on the processor's public key that a symmetric profile silently ignored would let anyone who can edit
  // config.json drop it by switching the profile.
  .refine((config) => config.processor.publicKeySha256 === undefined || config.profile === 'public-key', {
    message: 'processor.publicKeySha256 pins the processor\'s public key, so it needs profile "public-key"',
    path: ['profile'],
  })
  .prefault({});

export type StationConfig = z.output<typeof configSchema>;
export type AuthConfig = StationConfig['auth'];
export type OidcConfig = NonNullable<AuthConfig['oidc']>;
export type AuditShipConfig = NonNullable<StationConfig['audit']['ship']>;
export type StationConfigInput = z.input<typeof configSchema>;

/** Validates a parsed config value; the error names every bad field and its rule. */
export function parseConfig(value: unknown): StationConfig {
  const result = configSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  throw new StationError('CONFIG_INVALID', problems);
}

/** Parses the text of a config file; an empty file means defaults. */
export function parseConfigText(text: string): StationConfig {
  if (withoutBom(text).trim() === '') return parseConfig({});
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch {
    throw new StationError('CONFIG_INVALID', 'The config file is not valid JSON.');
  }
  return parseConfig(value);
}
