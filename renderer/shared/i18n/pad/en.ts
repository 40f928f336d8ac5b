import { ERROR_MESSAGES } from '../../../../common/errors';
import { PAD_ERROR_CODES } from '../catalogue';
import type { PadCatalogue, PadErrorCode } from '../catalogue';

export const en: PadCatalogue = {
  pad: {
    enterTitle: 'Enter your new PIN',
    confirmTitle: 'Enter the same PIN again',
    lengthExact: { one: '{n} digit', other: '{n} digits' },
    lengthRange: '{min} to {max} digits',
    digitsEntered: { one: '{n} digit entered', other: '{n} digits entered' },
    waitTitle: 'Please wait',
    waitBody: 'A member of staff will start PIN entry.',
    erase: 'Erase',
    clear: 'Clear',
    ok: 'OK',
    cancel: 'Cancel',
    secondsLeft: '{s} s left',
    language: 'Language',
    audioOn: 'Audio guidance on',
  },
  // English error texts are the ones main writes, so they cannot drift apart.
  errors: Object.fromEntries(PAD_ERROR_CODES.map((code) => [code, ERROR_MESSAGES[code]])) as Record<PadErrorCode, string>,
};
