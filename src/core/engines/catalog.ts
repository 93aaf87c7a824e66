import { compareVersions, parseVersion, type EngineVersion } from '../util/version';
import { editDistance } from '../util/edit-distance';
import { beyond, splitFlagToken, type CatalogIndex, type ChoicesAt, type EngineFlagCatalog, type EngineKind, type FlagChange, type FlagInfo, type FlagLookup } from './flag-catalog';
import { sglangFlagCatalog } from './sglang/catalog';
import { vllmFlagCatalog } from './vllm/catalog';

/**
 * Engine flag catalog: what each flag is (type, default, choices, help) and whether a given
 * engine release accepts it. Used by validation (removed/renamed flags, extraArgs), by the
 * language server (completion, hover) and by the emulator's `launch_server` stand-in, which
 * rejects unknown flags the way argparse does. Each engine's catalog lives in its folder
 * (sglang/catalog.ts, vllm/catalog.ts); the questions are answered here, the same way for all.
 */
export type { EngineKind, FlagInfo, FlagStatus, FlagLookup, ChoicesAt } from './flag-catalog';
export { splitFlagToken } from './flag-catalog';
export { SGLANG_CATALOG, routerFlagAt, type RouterFlagAt } from './sglang/catalog';

/** the engines' catalogs: the one list (an engine's folder adds its own) */
const CATALOGS: Readonly<Record<EngineKind, EngineFlagCatalog>> = { sglang: sglangFlagCatalog, vllm: vllmFlagCatalog };

/** each engine's index, built once on first use (thousands of rows and their release histories) */
const indexes = new Map<EngineKind, CatalogIndex>();
function indexOf(engine: EngineKind): CatalogIndex {
  let idx = indexes.get(engine);
  if (!idx) {
    idx = CATALOGS[engine].index();
    indexes.set(engine, idx);
  }
  return idx;
}

/** `latest` or a release after the newest one read: options added since are not in the catalog */
export function isBeyondCatalog(engine: EngineKind, v: EngineVersion): boolean {
  return beyond(CATALOGS[engine].newestVersion, v);
}

/** newest release per engine: SGLang's from the generated tags; vLLM's from the hand notes (its rows come from main) */
export const NEWEST_KNOWN_VERSION: Readonly<Record<EngineKind, string>> = { sglang: sglangFlagCatalog.newestVersion, vllm: vllmFlagCatalog.newestVersion };

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
  const when = change.exact ? (change.since === 'latest' ? `after ${change.after} (on main)` : `in ${change.since}`) : change.after ? `between ${change.after} and ${change.since}` : `in ${change.since}`;
  const extra = [change.date, change.pr ? `#${change.pr}` : undefined].filter(Boolean).join(', ');
  return `${when}${extra ? ` (${extra})` : ''}`;
}

/**
 * Is `flag` accepted by `engine` at `version`? Follows argparse: exact spellings and aliases,
 * and, where the engine's parser does (EngineFlagCatalog.prefixMatching), unambiguous prefixes.
 */
export function lookupFlag(engine: EngineKind, version: string | EngineVersion, flag: string): FlagLookup {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const spelled = splitFlagToken(flag).flag;
  const cat = CATALOGS[engine];
  const idx = indexOf(engine);
  let info = idx.bySpelling.get(spelled);
  let viaPrefix = false;
  if (!info && cat.prefixMatching && spelled.startsWith('--') && spelled.length > 3) {
    // argparse accepts an unambiguous prefix of a live option ("--mem-frac"); "--pp" is ambiguous
    const live = [...idx.bySpelling.entries()].filter(([s, f]) => s.startsWith(spelled) && (v.latest ? !f.removedAtHead : acceptedAt(f, v)));
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
    // past the catalog a new flag is likelier than a typo: suggest only a one-letter slip
    return cat.unknownFlag(spelled, v, closestFlag(engine, spelled, beyond(cat.newestVersion, v) ? 1 : undefined));
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
    if (s === 'no') return { ...base, status: 'not-yet', message: `${info.name} first appeared ${describeChange(added)}; ${cat.label} ${v.text} does not accept it` };
    if (s === 'unknown') return { ...base, status: 'uncertain', message: `${info.name} appeared ${describeChange(added)}; ${v.text} may not accept it` };
  }
  for (const dep of of('deprecated')) {
    if (changeState(dep, v) === 'yes') return { ...base, status: 'deprecated', replacement: dep.replacement, message: `${info.name} is deprecated ${describeChange(dep).replace(/^in /, 'since ')}${dep.replacement ? `; use ${dep.replacement}` : ''}` };
  }
  if (info.removedAtHead && info.history.every((h) => h.kind !== 'removed')) {
    return { ...base, status: 'uncertain', message: `${info.name} is not accepted by the newest releases` };
  }
  if (info.deprecatedAtHead && of('deprecated').length === 0 && compareVersions(v, cat.newestVersion) >= 0) {
    return { ...base, status: 'deprecated', message: `${info.name}: ${info.help}` };
  }
  return { ...base, status: 'ok' };
}

/** does this release accept the flag, by its history alone (no prefix matching) */
function acceptedAt(f: FlagInfo, v: EngineVersion): boolean {
  for (const h of f.history) if (h.kind === 'removed' && changeState(h, v) !== 'no') return false;
  for (const h of f.history) if (h.kind === 'added' && changeState(h, v) !== 'yes') return false;
  return !(f.removedAtHead && f.history.every((h) => h.kind !== 'removed'));
}

/** The choices a release's parser enforces for `flag` (SGLang lists change from release to release). */
export function choicesAt(engine: EngineKind, version: string | EngineVersion, flag: string): ChoicesAt {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  return CATALOGS[engine].choicesAt(v, flag, lookupFlag(engine, v, flag).info);
}

/** Flags a release accepts (with deprecated ones and those the history cannot rule out), for completion. */
export function flagsFor(engine: EngineKind, version: string | EngineVersion): FlagInfo[] {
  return indexOf(engine).flags.filter((f) => {
    const s = lookupFlag(engine, version, f.name).status;
    return s === 'ok' || s === 'deprecated' || s === 'uncertain';
  });
}

/** Main spelling for any spelling, alias or unambiguous prefix ("--ep", "--tp" -> "--ep-size", "--tp-size"); undefined when unknown. */
export function canonicalFlag(engine: EngineKind, flag: string): string | undefined {
  const spelled = splitFlagToken(flag).flag;
  const known = indexOf(engine).bySpelling.get(spelled) ?? lookupFlag(engine, 'latest', spelled).info;
  return known ? (known.aliasOf ?? known.name) : undefined;
}

export function allFlags(engine: EngineKind): readonly FlagInfo[] {
  return indexOf(engine).flags;
}

/** Nearest known spelling by edit distance, for "did you mean" (only when close). */
export function closestFlag(engine: EngineKind, flag: string, maxDistance?: number): string | undefined {
  let best: { s: string; d: number } | undefined;
  for (const s of indexOf(engine).bySpelling.keys()) {
    const d = editDistance(flag, s);
    if (!best || d < best.d) best = { s, d };
  }
  return best && best.d <= (maxDistance ?? Math.max(2, Math.floor(flag.length / 6))) ? best.s : undefined;
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
    const when = h.exact ? (h.since === 'latest' ? `after ${h.after}` : h.since) : h.after ? `between ${h.after} and ${h.since}` : h.since;
    lines.push(`- ${h.kind} ${when}${h.date ? ` (${h.date}${h.pr ? `, #${h.pr}` : ''})` : ''}${h.replacement ? `: use ${h.replacement}` : ''}`);
  }
  if (version !== undefined) {
    const l = lookupFlag(info.engine, version, info.name);
    if (l.status !== 'ok' && l.message) lines.push(`**${typeof version === 'string' ? version : version.text}:** ${l.message}`);
  }
  lines.push(CATALOGS[info.engine].sourceLine);
  return lines.join('\n\n');
}
