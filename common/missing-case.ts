/**
 * The `default:` of a switch over a union: the compiler refuses it while a case is missing (the value is not
 * `never` then), and at run time a value no case knows is an error, never a silent fall-through.
 */
export function missingCaseError(value: never): TypeError {
  return new TypeError(`Unhandled switch case: ${String(value)}`);
}
