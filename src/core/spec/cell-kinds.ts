/**
 * The cell kinds of a `.moebench` notebook: the one list. The executor table (cells/index.ts),
 * the language server (lang/schemas.ts, notebook-context.ts), the VS Code controller and a test
 * that checks package.json's languages, grammars and snippets all read it. Adding a kind: its
 * entry here, its spec schema (cell-kinds/schemas.ts) and its executor (cells/<kind>.ts).
 */
export interface CellKind {
  /** the notebook cell's language id */
  readonly language: string;
  /** shown in VS Code's language picker */
  readonly label: string;
  /** YAML cells get schema validation, hovers and completions; shell cells do not */
  readonly yaml: boolean;
  /** the snippets file under snippets/ */
  readonly snippets: string;
  /** fields that name another cell: `field` must match a `language` cell's name */
  readonly references?: readonly { field: string; language: string; what: string; urlAllowed: boolean }[];
}

export const CELL_KINDS = [
  { language: 'moebench-cluster', label: 'MoE Bench Cluster', yaml: true, snippets: 'cluster.json' },
  { language: 'moebench-deploy', label: 'MoE Bench Deploy', yaml: true, snippets: 'deploy.json', references: [{ field: 'cluster', language: 'moebench-cluster', what: 'moebench-cluster cell', urlAllowed: false }] },
  { language: 'moebench-bench', label: 'MoE Bench Benchmark', yaml: true, snippets: 'bench.json', references: [{ field: 'target', language: 'moebench-deploy', what: 'deployment', urlAllowed: true }] },
  { language: 'moebench-monitor', label: 'MoE Bench Monitor', yaml: true, snippets: 'monitor.json', references: [{ field: 'target', language: 'moebench-deploy', what: 'deployment', urlAllowed: true }] },
  { language: 'moebench-report', label: 'MoE Bench Report', yaml: true, snippets: 'report.json' },
  { language: 'shellscript', label: 'Shell Script', yaml: false, snippets: 'shell.json' },
] as const satisfies readonly CellKind[];

export type CellLanguage = (typeof CELL_KINDS)[number]['language'];
export const CELL_LANGUAGES: readonly CellLanguage[] = CELL_KINDS.map((k) => k.language);
export type YamlCellLanguage = Extract<(typeof CELL_KINDS)[number], { yaml: true }>['language'];
export const YAML_CELL_LANGUAGES = CELL_KINDS.filter((k) => k.yaml).map((k) => k.language) as readonly YamlCellLanguage[];

export function cellKind(language: string): CellKind | undefined {
  return (CELL_KINDS as readonly CellKind[]).find((k) => k.language === language);
}
