import { isScalar, type Node as YamlNode } from 'yaml';
import { YamlSource } from '../spec/yaml-spec';
import type { CellDiagnostic } from './diagnose';

export interface QuickFix {
  title: string;
  diagnostic: CellDiagnostic;
  /** replace [start, end) of the cell text with newText */
  edit: { start: number; end: number; newText: string };
}

/**
 * Turns a diagnostic's structured fix ({path, value}) into a text edit: the smallest edit when the
 * value already exists (replace the scalar), otherwise the cell re-written with the key set
 * (comments kept by the YAML library).
 */
export function quickFixesFor(text: string, diagnostics: readonly CellDiagnostic[]): QuickFix[] {
  const out: QuickFix[] = [];
  for (const d of diagnostics) {
    if (!d.fix) continue;
    const source = new YamlSource(text);
    if (d.fix.renameKey) {
      // the key itself: the pair in the parent map whose key is the path's last element
      const parent: unknown = d.fix.path.length > 1 ? source.doc.getIn(d.fix.path.slice(0, -1), true) : source.doc.contents;
      const items = parent && typeof parent === 'object' && 'items' in parent ? (parent as { items: { key?: unknown }[] }).items : [];
      const pair = items.find((p) => isScalar(p.key) && String((p.key as { value: unknown }).value) === String(d.fix?.path[d.fix.path.length - 1]));
      const r = pair && isScalar(pair.key) ? (pair.key as YamlNode).range : undefined;
      if (r) out.push({ title: d.fix.title, diagnostic: d, edit: { start: r[0], end: r[1], newText: String(d.fix.value) } });
      continue;
    }
    const node: unknown = source.doc.getIn(d.fix.path, true);
    const newValue = typeof d.fix.value === 'string' ? quoteIfNeeded(d.fix.value) : String(d.fix.value);
    if (isScalar(node) && (node as YamlNode).range) {
      const r = (node as YamlNode).range;
      if (r) {
        out.push({ title: d.fix.title, diagnostic: d, edit: { start: r[0], end: r[1], newText: newValue } });
        continue;
      }
    }
    const doc = source.doc.clone();
    doc.setIn(d.fix.path, d.fix.value);
    out.push({ title: d.fix.title, diagnostic: d, edit: { start: 0, end: text.length, newText: doc.toString() } });
  }
  return out;
}

function quoteIfNeeded(s: string): string {
  return /^[A-Za-z0-9_./@+-][A-Za-z0-9_./@+=:-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s);
}
