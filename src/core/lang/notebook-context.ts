import { parseDocument } from 'yaml';
import type { SpecIssue } from '../spec/yaml-spec';
import { YamlSource } from '../spec/yaml-spec';
import { cellKind } from '../spec/cell-kinds';

/** The cells of a notebook as the language server sees them (for cross-cell checks). */
export interface NotebookCellText {
  language: string;
  text: string;
  /** identity used to tell "this cell" from the others */
  id: string;
}

export interface DefinedName {
  name: string;
  language: string;
  cellId: string;
}

export function definedNames(cells: readonly NotebookCellText[]): DefinedName[] {
  const out: DefinedName[] = [];
  for (const c of cells) {
    if (!cellKind(c.language)?.yaml) continue;
    try {
      const v: unknown = parseDocument(c.text, { logLevel: 'error' }).toJS({ maxAliasCount: 100 });
      if (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') out.push({ name: (v as { name: string }).name, language: c.language, cellId: c.id });
    } catch {
      // the cell's own diagnostics report its syntax
    }
  }
  return out;
}

/** `cluster:` of a deploy cell / `target:` of a bench cell must name a cell of the right kind; names are unique. */
export function crossCellIssues(cell: NotebookCellText, cells: readonly NotebookCellText[]): SpecIssue[] {
  const src = new YamlSource(cell.text);
  if (src.doc.errors.length) return [];
  const value = src.value as Record<string, unknown>;
  const names = definedNames(cells);
  const issues: SpecIssue[] = [];
  const at = (path: (string | number)[], message: string, severity: 'error' | 'warning' = 'error'): void => {
    const r = src.rangeOf(path);
    issues.push({ message, path, severity, range: { start: r.start, end: r.end }, line: r.line, column: r.column });
  };
  if (typeof value.name === 'string') {
    const same = names.filter((n) => n.name === value.name);
    if (same.length > 1) at(['name'], `The name "${value.name}" is used by ${same.length} cells; names must be unique in a notebook`);
  }
  const refer = (key: string, language: string, what: string, allowUrl: boolean): void => {
    const ref = value[key];
    if (typeof ref !== 'string') return;
    if (allowUrl && /^https?:\/\//.test(ref)) return;
    const candidates = names.filter((n) => n.language === language).map((n) => n.name);
    if (!candidates.includes(ref)) {
      at([key], `No ${what} named "${ref}" in this notebook${candidates.length ? ` (defined: ${candidates.join(', ')})` : ''}`);
    }
  };
  for (const r of cellKind(cell.language)?.references ?? []) refer(r.field, r.language, r.what, r.urlAllowed);
  return issues;
}
