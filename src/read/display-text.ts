/**
 * A value as a terminal shows it. Org ids, accounts and paths are data: a
 * control character in one (an escape sequence, a carriage return) could
 * rewrite the operator's screen, and a megabyte id would be a megabyte line.
 * So control characters are written as \u escapes and long values are cut,
 * with an ellipsis. Only for display: CSV and JSON output keep every value
 * exactly.
 */
const MAX_WIDTH = 80;

export function displayText(value: string, maxWidth = MAX_WIDTH): string {
  // C0, DEL, C1 and the Unicode line and paragraph separators
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const characters = [...escaped];
  return characters.length <= maxWidth ? escaped : `${characters.slice(0, maxWidth - 1).join('')}…`;
}
