import type { VoiceCatalogue } from '../voice';

export const en: VoiceCatalogue = {
  promptExact: (n) =>
    `Audio guidance. Enter your new PIN, ${n} digits, then press OK. On the screen, OK is the bottom right key and Clear the bottom left. On a keypad, OK is Enter.`,
  promptRange: (min, max) =>
    `Audio guidance. Enter your new PIN, ${min} to ${max} digits, then press OK. On the screen, OK is the bottom right key and Clear the bottom left. On a keypad, OK is Enter.`,
  countOf: (k, n) => `${k} of ${n} digits.`,
  count: (k) => `${k} digits.`,
  fixed: {
    erased: 'One digit erased.',
    cleared: 'All digits cleared.',
    'too-short': 'Too short. Enter more digits, then press OK.',
    'too-long': 'No more digits. Press OK.',
    confirm: 'Enter the same PIN again to confirm, then press OK.',
    mismatch: 'The two PINs did not match. Enter the PIN again to confirm.',
    'mismatch-restart': 'The PINs did not match several times. Start again with a new PIN.',
    'weak-repeated': 'A PIN cannot be one digit repeated. Choose another PIN.',
    'weak-sequence': 'A PIN cannot be a run of consecutive digits. Choose another PIN.',
    'weak-denied': 'This PIN is too easy to guess. Choose another PIN.',
    'ten-seconds': 'Ten seconds left.',
    sent: 'Your PIN is being sent.',
    set: 'Your PIN is set. Thank you.',
    failed: 'The PIN was not set. Please ask the staff.',
    cancelled: 'PIN entry cancelled.',
    timeout: 'Time is up. Nothing was sent.',
  },
};
