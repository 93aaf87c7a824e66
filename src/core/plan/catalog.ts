import { SGLANG_CATALOG_COMMIT, SGLANG_CATALOG_VERSION, SGLANG_SERVER_ARGS_TSV } from './data/sglang-server-args';
import { SGLANG_FLAG_HISTORY, SGLANG_REMOVED_FLAG_ROWS, type FlagChange } from './flag-history';
import { parseVersion, compareVersions, type EngineVersion } from './version';
import { VLLM_FLAGS } from './vllm-flags';

/**
 * Engine flag catalog: what each flag is (type, default, choices, help) and whether a given
 * engine release accepts it. Used by validation (removed/renamed flags, extraArgs), by the
 * language server (completion, hover) and by the emulator's `launch_server` stand-in, which
 * rejects unknown flags the way argparse does.
 */
export type EngineKind = 'sglang' | 'vllm';

export interface FlagInfo {
  engine: EngineKind;
  /** main spelling */
  name: string;
  aliases: readonly string[];
  /** as in the catalog: flag, int, float, str, list[int], JSON string, ... (without "[deprecated]") */
  type: string;
  /** 'none' for switches, 'many' for lists (nargs +), otherwise one value */
  arity: 'none' | 'one' | 'many' | 'optional';
  default: string;
  choices?: readonly string[];
  help: string;
  /** deprecated at the newest catalog version (still accepted) */
  deprecatedAtHead: boolean;
  /** absent from the newest catalog (known only from history) */
  removedAtHead: boolean;
  history: readonly FlagChange[];
}

export type FlagStatus =
  /** accepted, no caveat */
  | 'ok'
  /** accepted but deprecated in this release */
  | 'deprecated'
  /** rejected by this release's argparse (removed) */
  | 'removed'
  /** rejected: added in a later release */
  | 'not-yet'
  /** the history cannot tell for this release (between two known releases) */
  | 'uncertain'
  /** argparse would reject it: no such option (or an ambiguous prefix) */
  | 'unknown';

export interface FlagLookup {
  status: FlagStatus;
  info?: FlagInfo;
  /** one sentence for the user */
  message?: string;
  replacement?: string;
  /** argparse prefix matching resolved the spelling to `info.name` */
  viaPrefix?: boolean;
}

interface CatalogIndex {
  flags: FlagInfo[];
  /** every spelling (main and aliases) -> flag */
  bySpelling: Map<string, FlagInfo>;
}

const indexes = new Map<EngineKind, CatalogIndex>();

function arityOf(type: string): FlagInfo['arity'] {
  if (type.startsWith('flag')) return 'none';
  if (type.startsWith('list[') || type.startsWith('JSON list')) return 'many';
  if (type.includes('value optional')) return 'optional';
  return 'one';
}

function buildSglang(): CatalogIndex {
  const flags: FlagInfo[] = [];
  const historyOf = (names: readonly string[]): FlagChange[] => SGLANG_FLAG_HISTORY.filter((h) => names.includes(h.flag));
  for (const line of SGLANG_SERVER_ARGS_TSV.slice(1)) {
    const [flagCol, typeCol = '', defaultCol = '', choicesCol = '', help = ''] = line.split('\t');
    const spellings = flagCol.split(',').map((s) => s.trim()).filter(Boolean);
    const deprecated = typeCol.includes('[deprecated]') || /^Deprecated\b/.test(help);
    const type = typeCol.replace(/\s*\[deprecated\]\s*/, '').trim();
    flags.push({
      engine: 'sglang',
      name: spellings[0],
      aliases: spellings.slice(1),
      type,
      arity: arityOf(type),
      default: defaultCol,
      choices: choicesCol ? choicesCol.split('|') : undefined,
      help,
      deprecatedAtHead: deprecated,
      removedAtHead: false,
      history: historyOf(spellings),
    });
  }
  for (const row of SGLANG_REMOVED_FLAG_ROWS) {
    flags.push({ engine: 'sglang', name: row.flag, aliases: [], type: row.type, arity: arityOf(row.type), default: '', help: row.help, deprecatedAtHead: false, removedAtHead: true, history: historyOf([row.flag]) });
  }
  return index(flags);
}

function buildVllm(): CatalogIndex {
  return index(
    VLLM_FLAGS.map((r) => ({
      engine: 'vllm' as const,
      name: r.flag,
      aliases: r.aliases ?? [],
      type: r.type,
      arity: arityOf(r.type),
      default: r.default,
      choices: r.choices,
      help: r.help,
      deprecatedAtHead: false,
      removedAtHead: r.removedIn !== undefined,
      history: [
        ...(r.since ? [{ flag: r.flag, kind: 'added' as const, since: r.since }] : []),
        ...(r.removedIn ? [{ flag: r.flag, kind: 'removed' as const, since: r.removedIn, replacement: r.replacement }] : []),
      ],
    })),
  );
}

function index(flags: FlagInfo[]): CatalogIndex {
  const bySpelling = new Map<string, FlagInfo>();
  for (const f of flags) for (const s of [f.name, ...f.aliases]) bySpelling.set(s, f);
  return { flags, bySpelling };
}

function catalog(engine: EngineKind): CatalogIndex {
  let idx = indexes.get(engine);
  if (!idx) {
    idx = engine === 'sglang' ? buildSglang() : buildVllm();
    indexes.set(engine, idx);
  }
  return idx;
}

/** the release the SGLang rows are exact for, and its commit */
export const SGLANG_CATALOG = { version: SGLANG_CATALOG_VERSION, commit: SGLANG_CATALOG_COMMIT } as const;
/** vLLM: the list is not tied to one release; treat every listed flag as current */
export const NEWEST_KNOWN_VERSION: Record<EngineKind, string> = { sglang: SGLANG_CATALOG_VERSION, vllm: '0.12.0' };

type ChangeState = 'yes' | 'no' | 'unknown';

function changeState(change: FlagChange, v: EngineVersion): ChangeState {
  if (change.since === 'latest') {
    if (v.latest) return 'yes';
    return change.after && compareVersions(v, change.after) <= 0 ? 'no' : 'unknown';
  }
  if (compareVersions(v, change.since) >= 0) return 'yes';
  if (!change.after || compareVersions(v, change.after) <= 0) return 'no';
  return 'unknown';
}

function describeChange(change: FlagChange): string {
  const when = change.after ? `between ${change.after} and ${change.since}` : `in ${change.since}`;
  const extra = [change.date, change.pr ? `#${change.pr}` : undefined].filter(Boolean).join(', ');
  return `${when}${extra ? ` (${extra})` : ''}`;
}

/** Split `--flag=value` into its parts. */
export function splitFlagToken(token: string): { flag: string; value?: string } {
  const eq = token.indexOf('=');
  return eq > 2 ? { flag: token.slice(0, eq), value: token.slice(eq + 1) } : { flag: token };
}

/**
 * Is `flag` accepted by `engine` at `version`? Follows argparse: exact spellings and aliases,
 * and (SGLang only: vLLM's parser turns abbreviations off) unambiguous prefixes.
 */
export function lookupFlag(engine: EngineKind, version: string | EngineVersion, flag: string): FlagLookup {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const spelled = splitFlagToken(flag).flag;
  const idx = catalog(engine);
  let info = idx.bySpelling.get(spelled);
  let viaPrefix = false;
  if (!info && engine === 'sglang' && spelled.startsWith('--') && spelled.length > 3) {
    // argparse accepts an unambiguous prefix of a live option ("--mem-frac"); "--pp" is ambiguous
    const live = [...idx.bySpelling.entries()].filter(([s, f]) => s.startsWith(spelled) && !f.removedAtHead);
    const distinct = [...new Set(live.map(([, f]) => f))];
    if (distinct.length > 1) {
      return { status: 'unknown', message: `${spelled} is ambiguous: it could be ${live.map(([s]) => s).slice(0, 4).join(', ')}${live.length > 4 ? ', ...' : ''}` };
    }
    if (distinct.length === 1) {
      info = distinct[0];
      viaPrefix = true;
    }
  }
  if (!info) {
    const newer = engine === 'sglang' && compareVersions(v, SGLANG_CATALOG_VERSION) >= 0;
    const where = engine === 'vllm' ? "MoE Bench's vLLM flag list" : `SGLang ${SGLANG_CATALOG_VERSION}'s options`;
    const suggestion = closestFlag(engine, spelled);
    return {
      status: engine === 'vllm' || !newer ? 'uncertain' : 'unknown',
      message: `${spelled} is not in ${where}${suggestion ? `; did you mean ${suggestion}?` : ''}`,
      replacement: suggestion,
    };
  }
  const base = { info, viaPrefix: viaPrefix || undefined };
  const of = (kind: FlagChange['kind']) => info.history.filter((h) => h.kind === kind);
  for (const removed of of('removed')) {
    const s = changeState(removed, v);
    if (s === 'yes') return { ...base, status: 'removed', replacement: removed.replacement, message: `${info.name} was removed ${describeChange(removed)}${removed.replacement ? `; use ${removed.replacement}` : ''}` };
    if (s === 'unknown') return { ...base, status: 'uncertain', replacement: removed.replacement, message: `${info.name} was removed ${describeChange(removed)}; ${v.text} may not accept it${removed.replacement ? ` (newer spelling: ${removed.replacement})` : ''}` };
  }
  for (const added of of('added')) {
    const s = changeState(added, v);
    if (s === 'no') return { ...base, status: 'not-yet', message: `${info.name} first appeared ${describeChange(added)}; ${engine === 'sglang' ? 'SGLang' : 'vLLM'} ${v.text} does not accept it` };
    if (s === 'unknown') return { ...base, status: 'uncertain', message: `${info.name} appeared ${describeChange(added)}; ${v.text} may not accept it` };
  }
  for (const dep of of('deprecated')) {
    if (changeState(dep, v) === 'yes') return { ...base, status: 'deprecated', replacement: dep.replacement, message: `${info.name} is deprecated since ${describeChange(dep)}${dep.replacement ? `; use ${dep.replacement}` : ''}` };
  }
  if (info.removedAtHead && info.history.every((h) => h.kind !== 'removed')) {
    return { ...base, status: 'uncertain', message: `${info.name} is not accepted by the newest releases` };
  }
  if (info.deprecatedAtHead && of('deprecated').length === 0 && compareVersions(v, SGLANG_CATALOG_VERSION) >= 0) {
    return { ...base, status: 'deprecated', message: `${info.name}: ${info.help}` };
  }
  return { ...base, status: 'ok' };
}

/** Flags a release accepts (with deprecated ones and those the history cannot rule out), for completion. */
export function flagsFor(engine: EngineKind, version: string | EngineVersion): FlagInfo[] {
  return catalog(engine).flags.filter((f) => {
    const s = lookupFlag(engine, version, f.name).status;
    return s === 'ok' || s === 'deprecated' || s === 'uncertain';
  });
}

/** Main spelling for any spelling, alias or unambiguous prefix ("--ep", "--tp" -> "--ep-size", "--tp-size"); undefined when unknown. */
export function canonicalFlag(engine: EngineKind, flag: string): string | undefined {
  const spelled = splitFlagToken(flag).flag;
  return catalog(engine).bySpelling.get(spelled)?.name ?? lookupFlag(engine, 'latest', spelled).info?.name;
}

export function allFlags(engine: EngineKind): readonly FlagInfo[] {
  return catalog(engine).flags;
}

/** Nearest known spelling by edit distance, for "did you mean" (only when close). */
export function closestFlag(engine: EngineKind, flag: string): string | undefined {
  let best: { s: string; d: number } | undefined;
  for (const s of catalog(engine).bySpelling.keys()) {
    const d = editDistance(flag, s);
    if (!best || d < best.d) best = { s, d };
  }
  return best && best.d <= Math.max(2, Math.floor(flag.length / 6)) ? best.s : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

export interface ScannedArg {
  /** index of the flag token in the list */
  index: number;
  flag: string;
  value?: string;
  lookup: FlagLookup;
}

/**
 * Walk an argv tail (extraArgs) the way argparse would: a known flag consumes its value(s).
 * Non-flag tokens that no flag consumes are reported with flag ''.
 */
export function scanArgs(engine: EngineKind, version: string | EngineVersion, args: readonly string[]): ScannedArg[] {
  const out: ScannedArg[] = [];
  for (let i = 0; i < args.length; i++) {
    const tok = args[i];
    if (!tok.startsWith('-') || tok === '-' || /^-\d/.test(tok)) {
      out.push({ index: i, flag: '', value: tok, lookup: { status: 'unknown', message: `stray value ${JSON.stringify(tok)}: no flag before it takes a value` } });
      continue;
    }
    const { flag, value } = splitFlagToken(tok);
    const lookup = lookupFlag(engine, version, flag);
    const arity = lookup.info?.arity ?? 'optional';
    if (value !== undefined || arity === 'none') {
      out.push({ index: i, flag, value, lookup });
      continue;
    }
    const start = i;
    const takeOne = () => (i + 1 < args.length && !isFlagToken(args[i + 1]) ? args[++i] : undefined);
    if (arity === 'many') {
      const values: string[] = [];
      for (let next = takeOne(); next !== undefined; next = takeOne()) values.push(next);
      out.push({ index: start, flag, value: values.length ? values.join(' ') : undefined, lookup });
    } else {
      out.push({ index: start, flag, value: takeOne(), lookup });
    }
  }
  return out;
}

function isFlagToken(tok: string): boolean {
  return tok.startsWith('--') || (tok.startsWith('-') && tok.length > 1 && !/^-\d/.test(tok));
}

/** Hover text for a flag: what it is, and what the chosen release does with it. Markdown. */
export function describeFlag(info: FlagInfo, version?: string | EngineVersion): string {
  const lines = [`\`${info.name}\`${info.aliases.length ? ` (also ${info.aliases.map((a) => `\`${a}\``).join(', ')})` : ''} — ${info.type}${info.default && info.default !== 'None' ? `, default \`${info.default}\`` : ''}`];
  if (info.choices) lines.push(`choices: ${info.choices.map((c) => `\`${c}\``).join(' | ')}`);
  lines.push(info.help);
  for (const h of info.history) {
    const when = h.after ? `between ${h.after} and ${h.since}` : h.since;
    lines.push(`- ${h.kind} ${when}${h.date ? ` (${h.date}${h.pr ? `, #${h.pr}` : ''})` : ''}${h.replacement ? `: use ${h.replacement}` : ''}`);
  }
  if (version !== undefined) {
    const l = lookupFlag(info.engine, version, info.name);
    if (l.status !== 'ok' && l.message) lines.push(`**${typeof version === 'string' ? version : version.text}:** ${l.message}`);
  }
  return lines.join('\n\n');
}
