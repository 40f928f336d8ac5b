/** Runtime validation of everything a renderer sends (the receiving side of the contract). */
import { z } from 'zod';
import type { OperatorChannel, OperatorInvoke, PinpadChannel, PinpadInvoke } from './ipc';
import { KEY_POSITIONS } from './ipc';

const none = z
  .null()
  .or(z.undefined())
  .transform(() => null);

export const startRequestSchema = z.strictObject({
  cardId: z.string().max(256),
  mode: z.enum(['customer', 'processor']),
  pan: z.string().max(64).optional(),
});

type Schemas<C extends string, M extends Record<C, { arg: unknown }>> = {
  readonly [K in C]: z.ZodType<M[K]['arg'], unknown>;
};

export const operatorArgSchemas: Schemas<OperatorChannel, OperatorInvoke> = {
  'station:get-state': none,
  'station:start': startRequestSchema,
  'station:cancel': none,
  'station:next-card': none,
};

export const pinpadArgSchemas: Schemas<PinpadChannel, PinpadInvoke> = {
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
};
