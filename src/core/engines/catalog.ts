import { SGLANG_CATALOG_COMMIT, SGLANG_CATALOG_SOURCE, SGLANG_CATALOG_VERSION, SGLANG_CHOICE_HISTORY, SGLANG_FLAG_PRESENCE, SGLANG_PAST_ARGS_TSV, SGLANG_RELEASES, SGLANG_ROUTER_CHOICE_HISTORY, SGLANG_ROUTER_PRESENCE, SGLANG_SERVER_ARGS_TSV } from './sglang/catalog-data';
import { SGLANG_FLAG_HISTORY, type FlagChange } from './sglang/flag-history';
import { parseVersion, compareVersions, type EngineVersion } from '../util/version';
import { VLLM_CATALOG_COMMIT, VLLM_CATALOG_DATE, VLLM_SERVE_ARGS_TSV } from './vllm/catalog-data';
import { VLLM_FLAGS, type VllmFlagRow } from './vllm/flags';
import { editDistance } from '../util/edit-distance';

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
  /** an alias whose history differs from its main spelling's: the main spelling */
  aliasOf?: string;
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

/**
 * History of one spelling from the generated presence string (one character per release read):
 * each change lands between two adjacent releases, so `since`/`after` are exact. The hand-written
 * notes (flag-history.ts) add what source cannot say: the PR, the date and the spelling to use.
 */
export function presenceHistory(flag: string, presence: string | undefined): FlagChange[] {
  if (!presence) return [];
  const out: FlagChange[] = [];
  const label = (i: number) => (SGLANG_RELEASES[i].version === 'main' ? 'latest' : SGLANG_RELEASES[i].version);
  for (let i = 1; i < presence.length; i++) {
    const was = presence[i - 1];
    const now = presence[i];
    if (was === now) continue;
    const kind: FlagChange['kind'] = now === '.' ? 'removed' : was === '.' ? 'added' : now === 'd' ? 'deprecated' : 'added';
    if (was === 'd' && now === '+') continue; // un-deprecated: nothing to warn about
    const since = label(i);
    const note = SGLANG_FLAG_HISTORY.find((h) => h.flag === flag && h.kind === kind);
    out.push({ flag, kind, since, after: label(i - 1), exact: true, ...(note ? { replacement: note.replacement, date: note.date, pr: note.pr, note: note.note } : {}) });
  }
  // deprecated from the first release read on
  if (presence[0] === 'd') {
    const note = SGLANG_FLAG_HISTORY.find((h) => h.flag === flag && h.kind === 'deprecated');
    out.unshift({ flag, kind: 'deprecated', since: label(0), replacement: note?.replacement });
  }
  // a deprecation that the source only states in words (help text, runtime warning) comes from the notes
  for (const h of SGLANG_FLAG_HISTORY) {
    if (h.flag === flag && h.kind === 'deprecated' && !out.some((o) => o.kind === 'deprecated')) out.push(h);
  }
  return out;
}

function rowToInfo(line: string, removedAtHead: boolean): FlagInfo[] {
  const [flagCol, typeCol = '', defaultCol = '', choicesCol = '', help = ''] = line.split('\t');
  const spellings = flagCol.split(',').map((s) => s.trim()).filter(Boolean);
  const deprecated = typeCol.includes('[deprecated]') || /^\[?Deprecated\b/i.test(help);
  const type = typeCol.replace(/\s*\[deprecated\]\s*/, '').trim();
  const base = { engine: 'sglang' as const, type, arity: arityOf(type), default: defaultCol, choices: choicesCol ? choicesCol.split('|') : undefined, help, deprecatedAtHead: deprecated && !removedAtHead, removedAtHead };
  // each alias has its own history (an alias can be added or dropped on its own)
  if (spellings.length === 1 || spellings.every((sp) => SGLANG_FLAG_PRESENCE[sp] === SGLANG_FLAG_PRESENCE[spellings[0]])) {
    return [{ ...base, name: spellings[0], aliases: spellings.slice(1), history: presenceHistory(spellings[0], SGLANG_FLAG_PRESENCE[spellings[0]]) }];
  }
  return [
    { ...base, name: spellings[0], aliases: [], history: presenceHistory(spellings[0], SGLANG_FLAG_PRESENCE[spellings[0]]) },
    ...spellings.slice(1).map((sp) => ({ ...base, name: sp, aliases: [], aliasOf: spellings[0], history: presenceHistory(sp, SGLANG_FLAG_PRESENCE[sp]) })),
  ];
}

function buildSglang(): CatalogIndex {
  const flags: FlagInfo[] = [];
  for (const line of SGLANG_SERVER_ARGS_TSV.slice(1)) flags.push(...rowToInfo(line, false));
  for (const line of SGLANG_PAST_ARGS_TSV) flags.push(...rowToInfo(line, true));
  return index(flags);
}

/**
 * vLLM: every `vllm serve` option of the source read (data/vllm-serve-args.ts, generated), with the
 * hand-kept release notes of vllm-flags.ts (first release, removal) laid over it. A hand row the
 * source no longer declares is kept as gone at head.
 */
function buildVllm(): CatalogIndex {
  const notes = new Map(VLLM_FLAGS.map((r) => [r.flag, r]));
  const historyOf = (r: VllmFlagRow | undefined, flag: string, goneAtHead: boolean): FlagChange[] => [
    ...(r?.since ? [{ flag, kind: 'added' as const, since: r.since }] : []),
    ...(r?.removedIn ? [{ flag, kind: 'removed' as const, since: r.removedIn, replacement: r.replacement }] : []),
    ...(goneAtHead && !r?.removedIn ? [{ flag, kind: 'removed' as const, since: 'latest', after: NEWEST_KNOWN_VERSION.vllm, replacement: r?.replacement }] : []),
  ];
  const flags: FlagInfo[] = [];
  const seen = new Set<string>();
  for (const line of VLLM_SERVE_ARGS_TSV.slice(1)) {
    const [flagCol, typeCol = '', defaultCol = '', choicesCol = '', help = ''] = line.split('\t');
    const spellings = flagCol.split(',').map((x) => x.trim()).filter(Boolean);
    const type = typeCol.replace(/\s*\[deprecated\]\s*/, '').trim();
    const note = notes.get(spellings[0]);
    spellings.forEach((sp) => seen.add(sp));
    flags.push({ engine: 'vllm', name: spellings[0], aliases: [...new Set([...spellings.slice(1), ...(note?.aliases ?? [])])], type, arity: arityOf(type), default: defaultCol, choices: choicesCol ? choicesCol.split('|') : undefined, help: help || note?.help || '', deprecatedAtHead: typeCol.includes('[deprecated]'), removedAtHead: false, history: historyOf(note, spellings[0], false) });
  }
  for (const r of VLLM_FLAGS) {
    if (seen.has(r.flag)) continue;
    flags.push({ engine: 'vllm', name: r.flag, aliases: r.aliases ?? [], type: r.type, arity: arityOf(r.type), default: r.default, choices: r.choices, help: r.help, deprecatedAtHead: false, removedAtHead: true, history: historyOf(r, r.flag, true) });
  }
  return index(flags);
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

/** the newest release the SGLang rows are exact for, and the commit of the newest source read */
export const SGLANG_CATALOG = { version: SGLANG_CATALOG_VERSION, commit: SGLANG_CATALOG_COMMIT, date: SGLANG_CATALOG_SOURCE.date, releases: SGLANG_RELEASES.length } as const;

/** `latest` or a release after the newest one read: options added since are not in the catalog */
export function isBeyondCatalog(engine: EngineKind, v: EngineVersion): boolean {
  if (engine === 'sglang') return v.latest || compareVersions(v, SGLANG_CATALOG_VERSION) > 0;
  return v.latest || compareVersions(v, NEWEST_KNOWN_VERSION.vllm) > 0;
}

/** newest release per engine: SGLang's from the generated tags; vLLM's from the hand notes (its rows come from main) */
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
  const when = change.exact ? (change.since === 'latest' ? `after ${change.after} (on main)` : `in ${change.since}`) : change.after ? `between ${change.after} and ${change.since}` : `in ${change.since}`;
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
    const suggestion = closestFlag(engine, spelled, isBeyondCatalog(engine, v) ? 1 : undefined);
    const didYouMean = suggestion ? `; did you mean ${suggestion}?` : '';
    if (engine === 'vllm') {
      return { status: 'uncertain', message: `${spelled} is not among vLLM's serve options read from main at ${VLLM_CATALOG_COMMIT.slice(0, 10)} (${VLLM_CATALOG_DATE})${didYouMean}`, replacement: suggestion };
    }
    if (isBeyondCatalog(engine, v)) {
      // options added after the newest source read are not known yet: say so, do not refuse
      return {
        status: 'uncertain',
        message: `${spelled} is not in the flag catalog, which holds SGLang up to ${SGLANG_CATALOG_VERSION} (main at ${SGLANG_CATALOG_COMMIT.slice(0, 10)}, ${SGLANG_CATALOG_SOURCE.date}); SGLang ${v.text} may accept it (refresh the catalog: npm run catalog:sglang)${didYouMean}`,
        replacement: suggestion,
      };
    }
    if (compareVersions(v, SGLANG_RELEASES[0].version) < 0) {
      return { status: 'uncertain', message: `${spelled} is not in SGLang ${SGLANG_RELEASES[0].version}'s options, and older releases are not in the catalog${didYouMean}`, replacement: suggestion };
    }
    return { status: 'unknown', message: `${spelled} is not an option of SGLang ${v.text}${didYouMean}`, replacement: suggestion };
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
    if (changeState(dep, v) === 'yes') return { ...base, status: 'deprecated', replacement: dep.replacement, message: `${info.name} is deprecated ${describeChange(dep).replace(/^in /, 'since ')}${dep.replacement ? `; use ${dep.replacement}` : ''}` };
  }
  if (info.removedAtHead && info.history.every((h) => h.kind !== 'removed')) {
    return { ...base, status: 'uncertain', message: `${info.name} is not accepted by the newest releases` };
  }
  if (info.deprecatedAtHead && of('deprecated').length === 0 && compareVersions(v, SGLANG_CATALOG_VERSION) >= 0) {
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

export interface ChoicesAt {
  /** undefined: the flag takes any value in this release */
  choices?: readonly string[];
  /** the list was read from this very release's source (false: an in-between or newer release) */
  exact: boolean;
  /** the release the list was read from */
  from: string;
}

/** index in SGLANG_RELEASES of this exact release ('latest' = the newest source read), or undefined */
function releaseIndex(v: EngineVersion): number | undefined {
  if (v.latest) return SGLANG_RELEASES.length - 1;
  const i = SGLANG_RELEASES.findIndex((r) => r.version !== 'main' && compareVersions(r.version, v) === 0);
  return i >= 0 ? i : undefined;
}

/** The choices a release's argparse enforces for `flag` (SGLang lists change from release to release). */
export function choicesAt(engine: EngineKind, version: string | EngineVersion, flag: string): ChoicesAt {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const info = lookupFlag(engine, v, flag).info;
  if (engine === 'vllm') return { choices: info?.choices, exact: !isBeyondCatalog(engine, v), from: NEWEST_KNOWN_VERSION.vllm };
  const name = info ? (info.aliasOf ?? info.name) : splitFlagToken(flag).flag;
  const seq = SGLANG_CHOICE_HISTORY[name];
  const exactIndex = releaseIndex(v);
  let index = exactIndex;
  if (index === undefined) {
    // an in-between or newer release: the list of the nearest release read before it
    index = -1;
    SGLANG_RELEASES.forEach((r, i) => {
      if (r.version !== 'main' && compareVersions(r.version, v) <= 0) index = i;
    });
    if (isBeyondCatalog(engine, v)) index = SGLANG_RELEASES.length - 1;
  }
  const rel = SGLANG_RELEASES[Math.max(index, 0)];
  const from = rel.version === 'main' ? `main at ${rel.commit.slice(0, 10)} (after ${SGLANG_CATALOG_VERSION})` : rel.version;
  // `latest` is main as it is today, which may have moved past the commit read
  const exact = exactIndex !== undefined && !v.latest;
  if (!seq) return { choices: info?.choices, exact, from };
  let list: string | undefined;
  for (const [start, joined] of seq) if (start <= Math.max(index, 0)) list = joined;
  return { choices: list ? list.split('|') : undefined, exact, from };
}

/** the release read at or before `v` (the newest source for `latest` and newer releases), and whether it is `v` itself */
function nearestRelease(v: EngineVersion): { index: number; exact: boolean } {
  const exact = releaseIndex(v);
  if (exact !== undefined) return { index: exact, exact: !v.latest };
  if (isBeyondCatalog('sglang', v)) return { index: SGLANG_RELEASES.length - 1, exact: false };
  let index = 0;
  SGLANG_RELEASES.forEach((r, i) => {
    if (r.version !== 'main' && compareVersions(r.version, v) <= 0) index = i;
  });
  return { index, exact: false };
}

export interface RouterFlagAt {
  /** does the router of this release accept the flag */
  accepted: boolean;
  choices?: readonly string[];
  /** read from this very release (false: a release between or after those read) */
  exact: boolean;
  /** the release the answer comes from */
  from: string;
}

/**
 * The router's (sglang_router / sgl-model-gateway) flags by SGLang release, from the router's own
 * argument file at each release tag (router_args.py; launch_router.py before it had one).
 */
export function routerFlagAt(version: string | EngineVersion, flag: string): RouterFlagAt {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const { index, exact } = nearestRelease(v);
  const presence = SGLANG_ROUTER_PRESENCE[flag];
  const accepted = presence !== undefined && presence[index] !== '.';
  let list: string | undefined;
  for (const [start, joined] of SGLANG_ROUTER_CHOICE_HISTORY[flag] ?? []) if (start <= index) list = joined;
  const rel = SGLANG_RELEASES[index];
  return { accepted, choices: list ? list.split('|') : undefined, exact, from: rel.version === 'main' ? `main at ${rel.commit.slice(0, 10)}` : rel.version };
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
  const known = catalog(engine).bySpelling.get(spelled) ?? lookupFlag(engine, 'latest', spelled).info;
  return known ? (known.aliasOf ?? known.name) : undefined;
}

export function allFlags(engine: EngineKind): readonly FlagInfo[] {
  return catalog(engine).flags;
}

/** Nearest known spelling by edit distance, for "did you mean" (only when close). */
export function closestFlag(engine: EngineKind, flag: string, maxDistance?: number): string | undefined {
  let best: { s: string; d: number } | undefined;
  for (const s of catalog(engine).bySpelling.keys()) {
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
  lines.push(info.engine === 'sglang' ? `_catalog: SGLang ${SGLANG_CATALOG_VERSION}, source ${SGLANG_CATALOG_COMMIT.slice(0, 10)}_` : `_catalog: vLLM main, source ${VLLM_CATALOG_COMMIT.slice(0, 10)}_`);
  return lines.join('\n\n');
}
