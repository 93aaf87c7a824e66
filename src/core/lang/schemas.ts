import type { z } from 'zod';
import type { YamlCellLanguage } from '../spec/cell-kinds';
import { clusterSpecSchema } from '../cluster-kinds';
import { benchSpecSchema } from '../spec/bench-spec';
import { reportSpecSchema } from '../spec/report-spec';
import { monitorSpecSchema } from '../spec/monitor-spec';
import { deploySpecSchema } from '../plan';

/** language id -> the zod schema its executor validates with (the one source of truth); every YAML cell kind has one. */
export function cellSchemas(): Record<YamlCellLanguage, z.ZodType> {
  return {
    'moebench-cluster': clusterSpecSchema,
    'moebench-deploy': deploySpecSchema,
    'moebench-bench': benchSpecSchema,
    'moebench-report': reportSpecSchema,
    'moebench-monitor': monitorSpecSchema,
  };
}

/**
 * The JSON Schema the YAML hovers and completions read, with each field's default stated in its
 * hover text: yaml-language-server shows `description` but not `default`, so a hover named a
 * field's meaning and left out what happens when it is omitted. Returns a new schema.
 */
export function withDefaultsInHovers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withDefaultsInHovers);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) out[k] = k === 'default' || k === 'const' || k === 'enum' || k === 'examples' ? v : withDefaultsInHovers(v);
  if ('default' in out && out.default !== undefined) {
    const shown = typeof out.default === 'string' ? out.default : JSON.stringify(out.default);
    const base = typeof out.description === 'string' ? out.description : '';
    out.markdownDescription = `${base}${base ? '\n\n' : ''}Default: \`${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}\``;
  }
  return out;
}
