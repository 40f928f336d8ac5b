/** Keeps only the digits of an authentication code in its field (a pasted "123 456" becomes "123456"). */
export function onlyDigits(input: HTMLInputElement): string {
  const digits = input.value.replace(/\D/g, '').slice(0, 6);
  if (input.value !== digits) input.value = digits;
  return digits;
}
