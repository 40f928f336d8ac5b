/** Card number (PAN) checks shared by the operator window and main. The PAN is never stored or logged. */
export const PAN_PATTERN = /^\d{12,19}$/;

/** Luhn (mod 10) check digit test. */
export function luhnValid(pan: string): boolean {
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let digit = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (digit < 0 || digit > 9) return false;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return pan.length > 0 && sum % 10 === 0;
}

export function isValidPan(pan: string): boolean {
  return PAN_PATTERN.test(pan) && luhnValid(pan);
}
