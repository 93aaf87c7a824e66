import { createHash } from 'node:crypto';

export type Override = [path: string, value: unknown];

/** One combination of the matrix. */
export interface MatrixCell {
  index: number;
  /** stable identity for resuming: the overrides as canonical JSON */
  key: string;
  /** "moe.eplb=true, moe.tbo=false" */
  label: string;
  overrides: Override[];
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Every combination, first key varying slowest (the order a person reads the matrix in). */
export function expandMatrix(matrix: Readonly<Record<string, readonly unknown[]>>): MatrixCell[] {
  const keys = Object.keys(matrix);
  let combos: Override[][] = [[]];
  for (const k of keys) combos = combos.flatMap((c) => matrix[k].map((v): Override[] => [...c, [k, v]]));
  return combos.map((overrides, index) => ({ index, key: JSON.stringify(overrides), label: overrides.map(([k, v]) => `${k}=${show(v)}`).join(', '), overrides }));
}

/** a name-safe slug of a cell ("eplb-true_tbo-false"), short enough for deployment and run names */
export function cellSlug(cell: MatrixCell, maxLen = 40): string {
  const raw = cell.overrides.map(([k, v]) => `${k.split('.').pop() ?? k}-${show(v)}`).join('_');
  const slug = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '');
  if (slug.length > 0 && slug.length <= maxLen) return slug;
  return `c${cell.index + 1}-${createHash('sha1').update(cell.key).digest('hex').slice(0, 8)}`;
}

/** `base` + `sep` + slug within the 63 characters names allow */
export function derivedName(base: string, cell: MatrixCell, sep: string): string {
  const slug = cellSlug(cell);
  const room = 63 - slug.length - sep.length;
  return `${base.slice(0, Math.max(1, room)).replace(/[-._]+$/, '')}${sep}${slug}`;
}
