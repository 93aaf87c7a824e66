import { arityOf, beyond, indexFlags, type CatalogIndex, type EngineFlagCatalog, type FlagChange, type FlagInfo } from '../flag-catalog';
import { VLLM_CATALOG_COMMIT, VLLM_CATALOG_DATE, VLLM_SERVE_ARGS_TSV } from './catalog-data';
import { VLLM_FLAGS, type VllmFlagRow } from './flags';

/** the newest vLLM release of the hand notes (flags.ts); its rows are read from main */
export const VLLM_NEWEST_RELEASE = '0.12.0';

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
    ...(goneAtHead && !r?.removedIn ? [{ flag, kind: 'removed' as const, since: 'latest', after: VLLM_NEWEST_RELEASE, replacement: r?.replacement }] : []),
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
  return indexFlags(flags);
}

export const vllmFlagCatalog: EngineFlagCatalog = {
  engine: 'vllm',
  label: 'vLLM',
  newestVersion: VLLM_NEWEST_RELEASE,
  // vLLM's parser turns abbreviations off
  prefixMatching: false,
  index: buildVllm,
  unknownFlag: (spelled, _v, suggestion) => ({
    status: 'uncertain',
    message: `${spelled} is not among vLLM's serve options read from main at ${VLLM_CATALOG_COMMIT.slice(0, 10)} (${VLLM_CATALOG_DATE})${suggestion ? `; did you mean ${suggestion}?` : ''}`,
    replacement: suggestion,
  }),
  // one list, read from main: exact for the releases the notes reach
  choicesAt: (v, _flag, info) => ({ choices: info?.choices, exact: !beyond(VLLM_NEWEST_RELEASE, v), from: VLLM_NEWEST_RELEASE }),
  sourceLine: `_catalog: vLLM main, source ${VLLM_CATALOG_COMMIT.slice(0, 10)}_`,
};
