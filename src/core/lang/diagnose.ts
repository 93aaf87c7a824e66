import type { z } from 'zod';
import { YamlSource, type SpecIssue } from '../cells/yaml-spec';
import { clusterSpecSchema } from '../cells/cluster';
import { planClusterFromSpec } from '../plan/cluster-from-spec';
import { checkDeployCell, type PlanCluster, type PlanPolicy } from '../plan';
import { crossCellIssues, type NotebookCellText } from './notebook-context';
import { cellSchemas } from './schemas';

export interface CellDiagnostic extends SpecIssue {
  /** the planner rule that produced it (deploy cells), for quick fixes */
  rule?: string;
  hint?: string;
  fix?: { title: string; path: (string | number)[]; value: string | number | boolean };
}

/**
 * Every problem of one cell, from the same code the executors run: the zod schema through
 * parseSpec's positioning, the planner's validation for deploy cells, and cross-cell references.
 * Never throws: a broken cell yields diagnostics, not an exception.
 */
export function diagnoseCell(cell: NotebookCellText, notebook: readonly NotebookCellText[], policy: PlanPolicy = {}): CellDiagnostic[] {
  const schema = cellSchemas()[cell.language];
  if (!schema) return [];
  let source: YamlSource;
  try {
    source = new YamlSource(cell.text);
  } catch (err) {
    return [{ message: `YAML could not be read: ${String(err)}`, path: [], severity: 'error', range: { start: 0, end: 1 }, line: 1, column: 1 }];
  }
  const syntax = source.syntaxIssues();
  if (syntax.some((s) => s.severity === 'error')) return syntax;
  if (cell.text.trim() === '') return [];
  const parsed = (schema as z.ZodType).safeParse(source.value);
  if (!parsed.success) return [...syntax, ...source.zodIssues(parsed.error)];
  const out: CellDiagnostic[] = [...syntax, ...crossCellIssues(cell, notebook)];
  if (cell.language === 'moebench-deploy') {
    const cluster = clusterFor(source.value, notebook);
    if (cluster) {
      try {
        for (const i of checkDeployCell(cell.text, cluster, policy)) out.push({ ...i, path: [...i.path], rule: i.rule, hint: i.hint, fix: (i as { fix?: CellDiagnostic['fix'] }).fix });
      } catch (err) {
        out.push({ message: err instanceof Error ? err.message : String(err), path: [], severity: 'error', range: { start: 0, end: 1 }, line: 1, column: 1 });
      }
    }
  }
  return out;
}

/** The cluster a deploy cell names, as the planner needs it, built from the notebook's cluster cell. */
export function clusterFor(deployValue: unknown, notebook: readonly NotebookCellText[]): PlanCluster | undefined {
  const name = deployValue && typeof deployValue === 'object' ? (deployValue as { cluster?: unknown }).cluster : undefined;
  for (const c of notebook) {
    if (c.language !== 'moebench-cluster') continue;
    const r = clusterSpecSchema.safeParse(new YamlSource(c.text).value);
    if (!r.success || r.data.name !== name) continue;
    return planClusterFromSpec(r.data).cluster;
  }
  return undefined;
}
