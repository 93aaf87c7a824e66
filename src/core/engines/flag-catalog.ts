import { compareVersions, type EngineVersion } from '../util/version';

/**
 * What an engine's flag catalog is made of, and the part every engine shares. Each engine builds
 * its own (engines/sglang/catalog.ts, engines/vllm/catalog.ts) from its generated data;
 * engines/catalog.ts answers the questions (is this flag accepted by that release, what does it
 * take, did you mean) the same way for all of them.
 */
export type EngineKind = 'sglang' | 'vllm';

export type FlagChangeKind = 'added' | 'deprecated' | 'removed';

/** One change of a flag between releases. */
export interface FlagChange {
  flag: string;
  kind: FlagChangeKind;
  since: string;
  after?: string;
  /** what to write instead (for deprecated / removed) */
  replacement?: string;
  date?: string;
  pr?: number;
  note?: string;
  /** read from source at every release (the generated catalog): `after` and `since` are adjacent releases */
  exact?: boolean;
}

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

export interface ChoicesAt {
  /** undefined: the flag takes any value in this release */
  choices?: readonly string[];
  /** the list was read from this very release's source (false: an in-between or newer release) */
  exact: boolean;
  /** the release the list was read from */
  from: string;
}

export interface CatalogIndex {
  flags: FlagInfo[];
  /** every spelling (main and aliases) -> flag */
  bySpelling: Map<string, FlagInfo>;
}

/** One engine's flag catalog: its flags and what only that engine's history can answer. */
export interface EngineFlagCatalog {
  readonly engine: EngineKind;
  /** "SGLang", "vLLM" */
  readonly label: string;
  /** the newest release the rows are exact for (a plan without a version uses it) */
  readonly newestVersion: string;
  /** argparse resolves unambiguous prefixes ("--mem-frac"); vLLM's parser turns abbreviations off */
  readonly prefixMatching: boolean;
  /** builds the index from the generated data (large: engines/catalog.ts calls it once and keeps the result) */
  index(): CatalogIndex;
  /** why an unknown spelling is unknown at `v` (the catalog's bounds), with the "did you mean" */
  unknownFlag(spelled: string, v: EngineVersion, suggestion: string | undefined): FlagLookup;
  /** the choices `v`'s parser enforces for a flag (info: the catalog's row, when known) */
  choicesAt(v: EngineVersion, flag: string, info: FlagInfo | undefined): ChoicesAt;
  /** the footer line of a hover: which source the catalog was read from */
  readonly sourceLine: string;
}

export function arityOf(type: string): FlagInfo['arity'] {
  if (type.startsWith('flag')) return 'none';
  if (type.startsWith('list[') || type.startsWith('JSON list')) return 'many';
  if (type.includes('value optional')) return 'optional';
  return 'one';
}

export function indexFlags(flags: FlagInfo[]): CatalogIndex {
  const bySpelling = new Map<string, FlagInfo>();
  for (const f of flags) for (const s of [f.name, ...f.aliases]) bySpelling.set(s, f);
  return { flags, bySpelling };
}

/** `latest` or a release after the newest one read: options added since are not in the catalog */
export function beyond(newestVersion: string, v: EngineVersion): boolean {
  return v.latest || compareVersions(v, newestVersion) > 0;
}

/** Split `--flag=value` into its parts. */
export function splitFlagToken(token: string): { flag: string; value?: string } {
  const eq = token.indexOf('=');
  return eq > 2 ? { flag: token.slice(0, eq), value: token.slice(eq + 1) } : { flag: token };
}
