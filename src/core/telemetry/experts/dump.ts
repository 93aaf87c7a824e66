import { z } from 'zod';
import { MoeBenchError } from '../../util/errors';

export class ExpertDumpError extends MoeBenchError {}

/** A recorder dump, reduced: what the analysis needs, whichever mode and format it came from. */
export interface ExpertDump {
  mode: 'stat' | 'per_pass';
  /** [layer][logical expert], summed over passes (stat modes) */
  logicalCount?: number[][];
  /** [layer][physical expert], summed over passes and ranks (per_pass mode) */
  physicalCount?: number[][];
  /** [layer][physical expert] -> logical expert id */
  physicalToLogicalMap?: number[][];
  /** [pass][layer][gpu], when the converter was given the EP size */
  perPassGpuLoad?: number[][][];
  numPasses?: number;
  /** SGLang's own mean balancedness over its window, when it computed one */
  averageUtilizationRateOverWindow?: number;
  files?: string[];
  /** seconds between the dump file's timestamp and the node's clock when converted */
  ageSec?: number;
}

const matrix = z.array(z.array(z.number()));
const cube = z.array(matrix);

const normalized = z.object({
  format: z.literal('moebench-expert-dump/1'),
  mode: z.enum(['stat', 'per_pass']),
  files: z.array(z.string()).optional(),
  nodeTimeSec: z.number().optional(),
  fileTimeSec: z.number().optional(),
  numPasses: z.number().nullable().optional(),
  logicalCount: matrix.nullable().optional(),
  physicalCount: matrix.optional(),
  physicalToLogicalMap: matrix.optional(),
  perPassGpuLoad: cube.optional(),
  averageUtilizationRateOverWindow: z.number().nullable().optional(),
});

/** SGLang's own dict (`_StatAccumulator.dump` / `_DetailAccumulator.dump`) with tensors as lists. */
const rawStat = z.object({
  logical_count: z.union([cube, matrix]),
  average_utilization_rate_over_window: z.number().nullable().optional(),
  rank: z.number().optional(),
  // not in SGLang's stat dump; the emulator adds the layout it used so per-GPU load is exact
  physical_to_logical_map: matrix.optional(),
});
const rawPerPass = z.object({
  records: z.array(z.object({ forward_pass_id: z.number().optional(), global_physical_count: matrix })),
  last_physical_to_logical_map: matrix.optional(),
});

function sumMatrices(ms: readonly number[][][]): number[][] {
  const out = ms[0].map((r) => r.slice());
  for (let k = 1; k < ms.length; k++) {
    const m = ms[k];
    for (let i = 0; i < out.length; i++) for (let j = 0; j < out[i].length; j++) out[i][j] += m[i]?.[j] ?? 0;
  }
  return out;
}

const nonZero = (m: number[][]) => m.some((r) => r.some((v) => v !== 0));

/**
 * Read a dump: the converter's JSON (format "moebench-expert-dump/1"), or SGLang's dump dict
 * written as JSON (the emulator does that). Unused circular-buffer slots (all zeros) are not
 * passes.
 */
export function parseExpertDump(json: unknown, where: { node?: string; file?: string } = {}): ExpertDump {
  if (json && typeof json === 'object' && 'error' in json) {
    throw new ExpertDumpError(
      `No expert-distribution dump found: ${String((json as { error: unknown }).error)}`,
      where,
      'Start the recorder before the run (the server needs --expert-distribution-recorder-mode stat) and dump it before reading.',
    );
  }
  const n = normalized.safeParse(json);
  if (n.success) {
    const d = n.data;
    return {
      mode: d.mode,
      logicalCount: d.logicalCount ?? undefined,
      physicalCount: d.physicalCount,
      physicalToLogicalMap: d.physicalToLogicalMap,
      perPassGpuLoad: d.perPassGpuLoad,
      numPasses: d.numPasses ?? undefined,
      averageUtilizationRateOverWindow: d.averageUtilizationRateOverWindow ?? undefined,
      files: d.files,
      ageSec: d.nodeTimeSec !== undefined && d.fileTimeSec !== undefined ? d.nodeTimeSec - d.fileTimeSec : undefined,
    };
  }
  const s = rawStat.safeParse(json);
  if (s.success) {
    const lc = s.data.logical_count;
    const passes = (lc.length > 0 && Array.isArray(lc[0][0]) ? lc : [lc]) as number[][][];
    const used = passes.filter(nonZero);
    return {
      mode: 'stat',
      logicalCount: sumMatrices(passes),
      numPasses: used.length,
      physicalToLogicalMap: s.data.physical_to_logical_map,
      averageUtilizationRateOverWindow: s.data.average_utilization_rate_over_window ?? undefined,
    };
  }
  const p = rawPerPass.safeParse(json);
  if (p.success && p.data.records.length > 0) {
    return {
      mode: 'per_pass',
      physicalCount: sumMatrices(p.data.records.map((r) => r.global_physical_count)),
      physicalToLogicalMap: p.data.last_physical_to_logical_map,
      numPasses: new Set(p.data.records.map((r) => r.forward_pass_id ?? 0)).size,
    };
  }
  throw new ExpertDumpError('The expert-distribution dump has an unknown shape', where, 'Only `stat`, `stat_approx` and `per_pass` recorder modes are supported (not `per_token`).');
}
