import { YamlSource } from '../spec/yaml-spec';
import { flagsFor, lookupFlag, allFlags, type EngineKind, type FlagInfo, NEWEST_KNOWN_VERSION } from '../plan';
import { pathAt } from './yaml-path';
import { escapeMd } from '../output/error-markdown';

export interface FlagCompletion {
  label: string;
  detail: string;
  documentation: string;
  deprecated: boolean;
  /** replace this source range with the label */
  range: { start: number; end: number };
}

function engineOf(value: unknown): { kind: EngineKind; version: string } {
  const e = value && typeof value === 'object' ? (value as { engine?: { kind?: unknown; version?: unknown } }).engine : undefined;
  const kind: EngineKind = e?.kind === 'vllm' ? 'vllm' : 'sglang';
  const version = typeof e?.version === 'string' || typeof e?.version === 'number' ? String(e.version) : NEWEST_KNOWN_VERSION[kind];
  return { kind, version };
}

function inExtraArgs(path: (string | number)[]): boolean {
  return path.includes('extraArgs');
}

/**
 * Text from the cell (a flag someone typed) as one markdown code span that it cannot leave: the
 * fence is longer than any run of backticks inside, and line breaks become spaces, so a backtick
 * in a flag name cannot open links or images in the hover.
 */
export function codeSpan(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

export function flagDoc(info: FlagInfo): string {
  const lines = [`${codeSpan(info.name)} (${info.type}${info.default && info.default !== 'None' ? `, default ${info.default}` : ''})`, '', info.help];
  if (info.choices?.length) lines.push('', `Choices: ${info.choices.map((c) => `\`${c}\``).join(', ')}`);
  if (info.aliases.length) lines.push('', `Also: ${info.aliases.map((a) => `\`${a}\``).join(', ')}`);
  if (info.history.length) lines.push('', ...info.history.map((h) => `- ${h.kind} in ${h.since}${h.replacement ? ` (use \`${h.replacement}\`)` : ''}${h.note ? `: ${h.note}` : ''}`));
  return lines.join('\n');
}

/** Engine flags for an `extraArgs` list item, for the engine and version the cell names. */
export function flagCompletions(text: string, offset: number): FlagCompletion[] | undefined {
  const source = new YamlSource(text);
  const at = pathAt(source, offset);
  if (!inExtraArgs(at.path)) return undefined;
  const typed = at.scalar && typeof at.scalar.value === 'string' ? at.scalar.value : '';
  // complete flag names only, not the value after a flag
  if (typed !== '' && !typed.startsWith('-')) return undefined;
  const { kind, version } = engineOf(source.value);
  const range = at.scalar ? { start: at.scalar.start, end: at.scalar.end } : { start: offset, end: offset };
  return flagsFor(kind, version).map((f) => {
    const status = lookupFlag(kind, version, f.name);
    return {
      label: f.name,
      detail: `${kind} ${version} · ${f.type}${status.status === 'deprecated' ? ' · deprecated' : ''}`,
      documentation: flagDoc(f),
      deprecated: status.status === 'deprecated',
      range,
    };
  });
}

/** Hover text for a flag written in `extraArgs`. */
export function flagHover(text: string, offset: number): { markdown: string; range: { start: number; end: number } } | undefined {
  const source = new YamlSource(text);
  const at = pathAt(source, offset);
  if (!inExtraArgs(at.path) || !at.scalar || typeof at.scalar.value !== 'string' || !at.scalar.value.startsWith('-')) return undefined;
  const { kind, version } = engineOf(source.value);
  const flag = at.scalar.value.split('=')[0];
  const look = lookupFlag(kind, version, flag);
  const info = look.info ?? allFlags(kind).find((f) => f.name === flag);
  if (!info) return { markdown: `${codeSpan(flag)}: not a known ${kind} flag${look.message ? ` — ${escapeMd(look.message)}` : ''}`, range: { start: at.scalar.start, end: at.scalar.end } };
  const status = look.status === 'ok' ? '' : `\n\n**${look.status} in ${kind} ${version}**${look.message ? `: ${escapeMd(look.message)}` : ''}`;
  return { markdown: flagDoc(info) + status, range: { start: at.scalar.start, end: at.scalar.end } };
}
