import * as path from 'node:path';
import type { OutputDoc } from '../output/doc';
import { compareRuns, reportDoc, REPORT_METRICS, loadStoredRun, type ComparedRun, type MetricDef } from '../report';
import type { SweepCellState } from './state';

/**
 * One comparison of a sweep's matrix cells with the report module's builder: each cell is a
 * series named by its overrides (the first cell is the baseline), with the expert balancedness
 * measured during its load as an extra column.
 */
export async function sweepComparison(title: string, runStoreDir: string, cells: readonly SweepCellState[]): Promise<{ doc: OutputDoc; runs: ComparedRun[]; skipped: { what: string; reason: string }[] }> {
  const runs: ComparedRun[] = [];
  const skipped: { what: string; reason: string }[] = [];
  const balance = new Map<string, number | null>();
  for (const c of cells) {
    if (c.status !== 'done') {
      skipped.push({ what: c.label, reason: c.error ?? 'failed' });
      continue;
    }
    for (const id of c.runIds) {
      const got = await loadStoredRun(path.join(runStoreDir, id));
      if ('skip' in got) {
        skipped.push({ what: `${c.label} (${id})`, reason: got.skip });
        continue;
      }
      runs.push({ ...got.run, series: c.label });
      balance.set(id, c.balancedness);
    }
  }
  const balancedness: MetricDef = { id: 'balancedness', label: 'Balancedness', unit: 'mean/max GPU load', better: 'higher', digits: 3, value: (r) => balance.get(r.id) ?? null };
  const model = compareRuns(runs, { title, metrics: [...REPORT_METRICS.slice(0, 2), balancedness, ...REPORT_METRICS.slice(2)], baseline: cells.find((c) => c.status === 'done')?.label, skipped });
  return { doc: reportDoc(model), runs, skipped };
}
