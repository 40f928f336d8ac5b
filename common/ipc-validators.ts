/** Runtime validation of everything a renderer sends (the receiving side of the contract). */
import { z } from 'zod';
import type { OperatorChannel, OperatorInvoke, PinpadChannel, PinpadInvoke } from './ipc';
import { KEY_POSITIONS } from './ipc';
import { AUDIT_EXPORT_FORMATS, LANGUAGES } from './domain';

const none = z
  .null()
  .or(z.undefined())
  .transform(() => null);

export const startRequestSchema = z.strictObject({
  cardId: z.string().max(256),
  mode: z.enum(['customer', 'processor']),
  pan: z.string().max(64).optional(),
  approval: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
  audio: z.boolean().optional(),
});

const approvalBase = {
  cardId: z.string().max(256),
  mode: z.enum(['customer', 'processor']),
  reason: z.string().max(2000),
};

/** Digits only (what the field admits); a wrong length is simply a wrong code, counted as such. */
const codeSchema = z.string().regex(/^\d{0,10}$/);

export const credentialsSchema = z.strictObject({
  username: z.string().max(256),
  password: z.string().max(1024),
  code: codeSchema,
});

/** One validator per channel of a window: a channel added to the contract without one does not compile. */
export type ArgSchemas<M extends { [K in keyof M]: { arg: unknown } }> = {
  readonly [K in keyof M]: z.ZodType<M[K]['arg'], unknown>;
};

export const operatorArgSchemas: ArgSchemas<OperatorInvoke> = {
  'station:get-state': none,
  'station:start': startRequestSchema,
  'station:cancel': none,
  'station:next-card': none,
  'station:approve': z.strictObject({ ...approvalBase, username: z.string().max(256), password: z.string().max(1024), code: codeSchema }),
  'station:approve-sso': z.strictObject(approvalBase),
  'audit:export': z.strictObject({ format: z.enum(AUDIT_EXPORT_FORMATS) }),
  'staff:sign-in': credentialsSchema,
  'staff:sign-in-sso': none,
  'staff:unlock': credentialsSchema,
  'staff:unlock-sso': none,
  'staff:sign-out': none,
  'staff:cancel-sso': none,
  'staff:lock': none,
  'staff:activity': none,
};

export const pinpadArgSchemas: ArgSchemas<PinpadInvoke> = {
  'pinpad:get-state': none,
  'pinpad:press': z
    .number()
    .int()
    .min(0)
    .max(KEY_POSITIONS - 1),
  'pinpad:erase': none,
  'pinpad:clear': none,
  'pinpad:submit': none,
  'pinpad:cancel': none,
  'pinpad:audio-device': z.boolean(),
  'pinpad:language': z.enum(LANGUAGES),
  'pinpad:outcome-cue-played': none,
};

/** Each window's channels, and all of them (for the adapter's ipcMain wiring), taken from the tables above. */
export const OPERATOR_CHANNELS = Object.keys(operatorArgSchemas) as readonly OperatorChannel[];
export const PINPAD_CHANNELS = Object.keys(pinpadArgSchemas) as readonly PinpadChannel[];
export const ALL_CHANNELS: readonly string[] = [...OPERATOR_CHANNELS, ...PINPAD_CHANNELS];
