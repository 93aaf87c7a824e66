import { MoeBenchError } from '../util/errors';
import type { Override } from './matrix';

export class SweepSpecError extends MoeBenchError {}

const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The deploy spec (as plain YAML data) with dotted paths set. Missing sections are created. A
 * boolean given for a section that is an object in the base spec sets its `enabled` (so
 * `moe.eplb: false` keeps the base's eplb settings but turns EPLB off, as `eplb: false` would
 * read in the deploy cell). The base object is not modified.
 */
export function applyOverrides(base: unknown, overrides: readonly Override[]): Record<string, unknown> {
  if (!isPlainObject(base)) throw new SweepSpecError('The deploy cell is not a YAML mapping', { field: 'sweep.deployment' });
  const out = structuredClone(base);
  for (const [dotted, value] of overrides) {
    const keys = dotted.split('.');
    if (keys[0] === 'name' || keys[0] === 'cluster') {
      throw new SweepSpecError(`The sweep cannot vary "${keys[0]}"`, { field: `sweep.matrix.${dotted}` }, 'Each matrix cell gets its own deployment name; the cluster stays the one of the deploy cell.');
    }
    let cur: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      const next = cur[k];
      if (isPlainObject(next)) cur = next;
      else {
        // `eplb: true` in the base, a sub-field in the matrix: the section becomes an object
        const created: Record<string, unknown> = typeof next === 'boolean' ? { enabled: next } : {};
        cur[k] = created;
        cur = created;
      }
    }
    const last = keys[keys.length - 1];
    const existing = cur[last];
    cur[last] = typeof value === 'boolean' && isPlainObject(existing) ? { ...existing, enabled: value } : structuredClone(value);
  }
  return out;
}
