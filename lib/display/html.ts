/**
 * Internal: safe HTML building for the display helpers (figures, tables, progress, images).
 *
 * Every piece of user text placed in HTML goes through {@link escapeHtml}; every value embedded in a
 * `<script>` goes through {@link jsonForScript}, whose output can never close the script element.
 */
import { randomBytes } from 'node:crypto';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON for embedding inside `<script>`: `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026` (so neither
 * `</script>` nor `<!--` can appear), and U+2028 / U+2029 are escaped (they end a line in old JavaScript
 * engines). The result is still valid JSON and parses to the same value. NaN and Infinity become null.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Makes JavaScript source safe to place between `<script>` and `</script>`: `</script` and `<!--` occur in
 * valid JS only inside string, regex or comment text, where `<\/` and `<\!` mean the same thing.
 */
export function scriptSafeSource(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** A short random id for HTML elements (unique across kernel sessions, so reopened notebooks do not clash). */
export function randomId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
