import type { Block, OutputDoc } from '../output/doc';
import { SOURCE_NAMES } from '../results/importers';
import { energyChart, latencyChart, paretoChart, throughputChart } from './charts';
import { reportBadges } from './flags';
import { comparisonTable } from './table';
import type { ReportModel } from './types';

/** The report as an OutputDoc: badges, the comparison table, curves, Pareto, notes. Compact: no raw records. */
export function reportDoc(model: ReportModel, extra: { exports?: [string, string][] } = {}): OutputDoc {
  const runs = model.rows.flatMap((r) => r.runs);
  const blocks: Block[] = [{ type: 'badges', items: reportBadges(model) }, comparisonTable(model)];
  blocks.push(throughputChart(model), latencyChart(model));
  const pareto = paretoChart(model);
  if (pareto) blocks.push(pareto);
  else blocks.push({ type: 'text', text: 'The Pareto chart needs each run\'s GPU count: none came from launch commands or telemetry. Give them with `gpus: N` (or `gpus: { <name>: N }`) in the report cell, or `--gpus N` on the command line.' });
  const energy = energyChart(model);
  if (energy) blocks.push(energy);

  const notes = new Map<string, string[]>();
  for (const r of runs) if (r.source !== 'moebench' && r.definitionNotes.length) notes.set(SOURCE_NAMES[r.source], r.definitionNotes);
  const withGpus = runs.filter((r) => r.gpus);
  const items: [string, string | number | null][] = [
    ['MoE Bench', runs.some((r) => r.source === 'moebench') ? `${[...new Set(runs.filter((r) => r.source === 'moebench').map((r) => r.summary.definition))].map((d) => (d === 'sglang' ? 'SGLang bench_serving definitions' : 'vLLM bench serve definitions')).join(', ')}` : null],
    ...[...notes.entries()].map(([tool, lines]): [string, string] => [tool, lines.join(' ')]),
    ['tok/s/user', '1000 / mean TPOT of the run (the decode speed one user sees)'],
    ['GPUs', withGpus.length ? [...new Set(withGpus.map((r) => r.gpus?.from))].join(', ') : 'unknown'],
  ];
  blocks.push({ type: 'kv', title: 'Metric definitions', items: items.filter((i) => i[1] !== null) });
  if (extra.exports?.length) blocks.push({ type: 'kv', title: 'Exports', items: extra.exports });
  const simulated = model.rows.filter((r) => r.runs.some((x) => x.simulated)).map((r) => r.label);
  if (simulated.length) blocks.push({ type: 'text', text: `**Simulated** (emulator, not GPUs): ${simulated.join(', ')}.` });
  return { title: model.title, simulated: simulated.length > 0, runIds: runs.map((r) => r.id), blocks };
}
