/**
 * JSON text from files people edit (config.json, a managed policy): some Windows editors save UTF-8 with a
 * byte-order mark, which JSON.parse refuses. The one place that mark is dropped.
 */
export function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** JSON.parse after dropping a leading byte-order mark; throws SyntaxError for text that is not JSON. */
export function parseJsonText(text: string): unknown {
  return JSON.parse(withoutBom(text));
}
