import { describeError, isAbortError } from '../util/errors';
import { SpecValidationError, formatLocation } from '../util/errors';
import { redactSecretsDeep } from '../util/redact';

/** The one place failures become user text: markdown written into the cell, saying what to do next. */
export function errorMarkdown(err: unknown): string {
  if (isAbortError(err)) return '**Cancelled.** Whatever the cell had received so far is kept.';
  const d = redactSecretsDeep(describeError(err));
  const lines = [`**Error:** ${escapeMd(d.title)}`];
  if (d.location) lines.push('', `*Where:* ${escapeMd(d.location)}`);
  if (err instanceof SpecValidationError && err.issues.length > 1) {
    lines.push('', ...err.issues.map((i) => `- ${escapeMd(i.message)}${formatLocation(i.where) ? ` — ${escapeMd(formatLocation(i.where))}` : ''}`));
  }
  if (d.hint) lines.push('', `*Next:* ${escapeMd(d.hint)}`);
  return lines.join('\n');
}

/** plain text for terminals and logs */
export function errorText(err: unknown): string {
  if (isAbortError(err)) return 'cancelled';
  const d = redactSecretsDeep(describeError(err));
  const extra = err instanceof SpecValidationError && err.issues.length > 1 ? err.issues.map((i) => `\n  - ${i.message} (${formatLocation(i.where)})`).join('') : '';
  return `${d.title}${d.location ? ` [${d.location}]` : ''}${extra}${d.hint ? `\n  hint: ${d.hint}` : ''}`;
}

/**
 * Error text often quotes remote output (a server's stderr), so it is treated as hostile: every
 * ASCII punctuation character is backslash-escaped (CommonMark allows it for all of them), which
 * also splits bare URLs and domains so the renderer cannot linkify them, and each line break
 * becomes a hard break (`\` at the end of the line), so no line can start a heading, a list, a
 * quote, a table or a fence.
 */
export function escapeMd(s: string): string {
  return s.replace(/[!-/:-@[-`{-~]/g, '\\$&').replace(/\r\n?|\n/g, '\\\n');
}
