import { z } from 'zod';
import { YamlSource, type SpecIssue } from '../spec/yaml-spec';
import { clusterKind, clusterSpecSchema } from '../cluster-kinds';
import { checkDeployCell, type PlanCluster, type PlanPolicy } from '../plan';
import { crossCellIssues, type NotebookCellText } from './notebook-context';
import { cellSchemas } from './schemas';
import { editDistance } from '../util/edit-distance';

export interface CellDiagnostic extends SpecIssue {
  /** the planner rule that produced it (deploy cells), for quick fixes */
  rule?: string;
  hint?: string;
  /** set `path` to `value`; with renameKey, rename the key at `path` to `value` instead */
  fix?: { title: string; path: (string | number)[]; value: string | number | boolean; renameKey?: boolean };
}

const jsonSchemas = new Map<string, unknown>();
function jsonSchemaOf(language: string, schema: z.ZodType): unknown {
  let j = jsonSchemas.get(language);
  if (j === undefined) {
    j = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
    jsonSchemas.set(language, j);
  }
  return j;
}

/** the keys an object at `path` may have, from the JSON Schema (through unions and arrays) */
function knownKeysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  let nodes: unknown[] = [schema];
  const expand = (n: unknown): unknown[] => {
    if (!n || typeof n !== 'object') return [];
    const o = n as Record<string, unknown>;
    const alts = [...((o.anyOf as unknown[]) ?? []), ...((o.oneOf as unknown[]) ?? []), ...((o.allOf as unknown[]) ?? [])];
    return [o, ...alts.flatMap(expand)];
  };
  for (const step of path) {
    const next: unknown[] = [];
    for (const n of nodes.flatMap(expand)) {
      const o = n as Record<string, unknown>;
      if (typeof step === 'number') {
        if (o.items) next.push(o.items);
      } else {
        const props = o.properties as Record<string, unknown> | undefined;
        if (props?.[step]) next.push(props[step]);
        else if (o.additionalProperties && typeof o.additionalProperties === 'object') next.push(o.additionalProperties);
      }
    }
    nodes = next;
  }
  const keys = new Set<string>();
  for (const n of nodes.flatMap(expand)) for (const k of Object.keys(((n as Record<string, unknown>).properties as object | undefined) ?? {})) keys.add(k);
  return [...keys];
}


/** An unknown key close to a known one gets "did you mean" and a quick fix that renames it. */
function withSuggestions(language: string, schema: z.ZodType, issues: CellDiagnostic[]): CellDiagnostic[] {
  return issues.map((d) => {
    const key = d.path[d.path.length - 1];
    if (typeof key !== 'string' || !/Unrecognized key/i.test(d.message)) return d;
    let best: { k: string; dist: number } | undefined;
    for (const k of knownKeysAt(jsonSchemaOf(language, schema), d.path.slice(0, -1))) {
      const dist = editDistance(key, k, { ignoreCase: true });
      if (!best || dist < best.dist) best = { k, dist };
    }
    if (!best || best.dist > Math.max(2, Math.floor(key.length / 4))) return d;
    return { ...d, message: `${d.message}; did you mean "${best.k}" for "${key}"?`, fix: { title: `Rename to "${best.k}"`, path: [...d.path], value: best.k, renameKey: true } };
  });
}

/**
 * Every problem of one cell, from the same code the executors run: the zod schema through
 * parseSpec's positioning, the planner's validation for deploy cells, and cross-cell references.
 * Never throws: a broken cell yields diagnostics, not an exception.
 */
export function diagnoseCell(cell: NotebookCellText, notebook: readonly NotebookCellText[], policy: PlanPolicy = {}): CellDiagnostic[] {
  const schema = (cellSchemas() as Partial<Record<string, import('zod').ZodType>>)[cell.language];
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
  if (!parsed.success) return [...syntax, ...withSuggestions(cell.language, schema, source.zodIssues(parsed.error))];
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
    return clusterKind(r.data.kind)?.preview(r.data).cluster;
  }
  return undefined;
}
