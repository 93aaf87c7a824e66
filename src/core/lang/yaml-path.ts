import { isMap, isPair, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import type { YamlSource } from '../spec/yaml-spec';

export interface PathAt {
  /** keys/indices from the root to the innermost node containing the offset */
  path: (string | number)[];
  /** the scalar under the cursor, with its source range */
  scalar?: { value: unknown; start: number; end: number };
  /** the cursor is on a key (not a value) */
  onKey: boolean;
}

/**
 * Which spec path the cursor is in. Also answers for an empty list item being typed
 * ("- |" under `extraArgs:`) by falling back to the indentation of the line.
 */
export function pathAt(source: YamlSource, offset: number): PathAt {
  const result: PathAt = { path: [], onKey: false };
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        const kr = (pair.key as YamlNode | null)?.range;
        if (key !== undefined && kr && offset >= kr[0] && offset <= kr[1]) {
          result.path = [...path, key];
          result.onKey = true;
          result.scalar = { value: key, start: kr[0], end: kr[1] };
          return;
        }
        const vr = (pair.value as YamlNode | null)?.range;
        if (key !== undefined && vr && offset >= vr[0] && offset <= vr[2]) {
          result.path = [...path, key];
          visit(pair.value, [...path, key]);
          return;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const r = (item as YamlNode | null)?.range;
        if (r && offset >= r[0] && offset <= r[1]) {
          result.path = [...path, i];
          visit(item, [...path, i]);
        }
      });
    } else if (isScalar(node) && node.range) {
      result.scalar = { value: node.value, start: node.range[0], end: node.range[1] };
    }
  };
  visit(source.doc.contents, []);
  if (result.path.length === 0 || !result.scalar) {
    const fallback = listKeyFromIndentation(source.text, offset);
    if (fallback && result.path.length <= fallback.length) result.path = fallback;
  }
  return result;
}

/** For "  - --moe|" style lines the parser may not have a node yet: walk up by indentation. */
function listKeyFromIndentation(text: string, offset: number): (string | number)[] | undefined {
  const lines = text.slice(0, offset).split('\n');
  const current = lines[lines.length - 1];
  const m = /^(\s*)-\s*(\S*)$/.exec(current) ?? /^(\s*)(\S*)$/.exec(current);
  if (!m) return undefined;
  let indent = m[1].length;
  const path: string[] = [];
  for (let i = lines.length - 2; i >= 0; i--) {
    const km = /^(\s*)([A-Za-z0-9_.-]+):\s*(#.*)?$/.exec(lines[i]);
    if (km && km[1].length < indent) {
      path.unshift(km[2]);
      indent = km[1].length;
      if (indent === 0) break;
    }
  }
  return path.length ? path : undefined;
}
