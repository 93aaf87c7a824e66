import type { ExpertSnapshot } from '../schema';
import { ExpertDumpError, type ExpertDump } from './dump';

/** SGLang adds this to mean and max so an idle layer counts as balanced (expert_distribution.py). */
const EPS = 1e-5;

/**
 * Balancedness of one layer's per-GPU load, SGLang's `compute_utilization_rate`:
 * (mean over GPUs + 1e-5) / (max over GPUs + 1e-5). 1 = perfectly even; 1/ep_size = one GPU does all.
 */
export function layerBalancedness(gpuLoad: readonly number[]): number {
  if (gpuLoad.length === 0) return 1;
  let sum = 0;
  let max = -Infinity;
  for (const v of gpuLoad) {
    sum += v;
    if (v > max) max = v;
  }
  return (sum / gpuLoad.length + EPS) / (max + EPS);
}

/** Per layer, and SGLang's per-pass figure: the mean over layers. */
export function balancedness(gpuLoadByLayer: readonly (readonly number[])[]): { perLayer: number[]; mean: number } {
  const perLayer = gpuLoadByLayer.map(layerBalancedness);
  const mean = perLayer.length ? perLayer.reduce((a, b) => a + b, 0) / perLayer.length : 1;
  return { perLayer, mean };
}

/**
 * Physical experts sit contiguously per GPU: GPU of physical expert p = p // (num_physical / ep_size)
 * (expert_location.py; `compute_gpu_physical_count` reduces "(num_gpu num_expert_per_gpu)").
 */
export function gpuLoadFromPhysical(physicalByLayer: readonly (readonly number[])[], epSize: number): number[][] {
  return physicalByLayer.map((row) => {
    if (epSize <= 0 || row.length % epSize !== 0) {
      throw new ExpertDumpError(`${row.length} physical experts cannot be split over ${epSize} GPUs`, {}, 'Check the EP size (--ep-size) the server was started with.');
    }
    const per = row.length / epSize;
    const out = new Array<number>(epSize).fill(0);
    for (let p = 0; p < row.length; p++) out[Math.floor(p / per)] += row[p];
    return out;
  });
}

/**
 * Logical counts spread onto physical slots. With a recorded map, a logical expert with several
 * replicas is split evenly over them (an approximation: the dispatcher's choice per token is not
 * in a stat dump). Without a map, the trivial layout (physical i = logical i) is assumed.
 */
export function physicalFromLogical(logicalByLayer: readonly (readonly number[])[], physicalToLogical?: readonly (readonly number[])[]): { physical: number[][]; approximate: boolean } {
  if (!physicalToLogical) return { physical: logicalByLayer.map((r) => r.slice()), approximate: true };
  let replicated = false;
  const physical = logicalByLayer.map((counts, layer) => {
    const map = physicalToLogical[layer] ?? physicalToLogical[0];
    const replicas = new Array<number>(counts.length).fill(0);
    for (const l of map) if (l >= 0 && l < counts.length) replicas[l]++;
    if (replicas.some((r) => r > 1)) replicated = true;
    return map.map((l) => (l >= 0 && l < counts.length && replicas[l] > 0 ? counts[l] / replicas[l] : 0));
  });
  return { physical, approximate: replicated };
}

/** [layer][logical] from physical counts and the map (each replica's count goes to its logical expert). */
export function logicalFromPhysical(physicalByLayer: readonly (readonly number[])[], physicalToLogical: readonly (readonly number[])[] | undefined, numLogical: number): number[][] {
  return physicalByLayer.map((row, layer) => {
    const map = physicalToLogical?.[layer] ?? physicalToLogical?.[0];
    const out = new Array<number>(numLogical).fill(0);
    row.forEach((v, p) => {
      const l = map ? map[p] : p;
      if (l !== undefined && l >= 0 && l < numLogical) out[l] += v;
    });
    return out;
  });
}

export interface SnapshotOptions {
  epSize: number;
  label: string;
  endpoint: string;
  tsMs: number;
  /** the map the server used, when the dump does not carry one (e.g. the --init-expert-location file) */
  physicalToLogicalMap?: number[][];
  /** logical experts per layer when only physical counts are known (default: distinct ids in the map) */
  numLogicalExperts?: number;
}

/** Heatmap, per-GPU load and balancedness of one dump, as a telemetry record. */
export function expertSnapshot(dump: ExpertDump, o: SnapshotOptions): ExpertSnapshot {
  const empty = (m: number[][] | undefined) => !m || m.length === 0 || m.every((r) => r.every((v) => v === 0));
  if (dump.numPasses === 0 || (empty(dump.logicalCount) && empty(dump.physicalCount))) {
    throw new ExpertDumpError(
      'The expert-distribution dump holds no recorded forward passes',
      {},
      'Start the recorder before sending traffic and dump it after the run (start clears the record, dump resets it).',
    );
  }
  const map = dump.physicalToLogicalMap ?? o.physicalToLogicalMap;
  let logical: number[][];
  let physical: number[][];
  let approximate: boolean;
  if (dump.physicalCount) {
    physical = dump.physicalCount;
    const numLogical = o.numLogicalExperts ?? (map ? Math.max(...map.flat()) + 1 : physical[0]?.length ?? 0);
    logical = logicalFromPhysical(physical, map, numLogical);
    approximate = false;
  } else if (dump.logicalCount) {
    logical = dump.logicalCount;
    ({ physical, approximate } = physicalFromLogical(logical, map));
  } else {
    throw new ExpertDumpError('The dump has neither logical nor physical counts');
  }
  const gpuLoad = gpuLoadFromPhysical(physical, o.epSize);
  const b = balancedness(gpuLoad);
  return {
    kind: 'experts',
    tsMs: o.tsMs,
    endpoint: o.endpoint,
    label: o.label,
    epSize: o.epSize,
    numLayers: logical.length,
    numLogicalExperts: logical[0]?.length ?? 0,
    logicalCount: logical,
    gpuLoad,
    balancednessPerLayer: b.perLayer,
    balancednessMean: b.mean,
    layoutApproximate: approximate,
  };
}

/**
 * SGLang's window figure from per-pass loads: balancedness per pass (mean over layers), averaged
 * over passes — what `average_utilization_rate_over_window` reports. Summed counts (the snapshot)
 * are smoother than single passes, so this is the lower, honest number.
 */
export function perPassBalancedness(perPassGpuLoad: readonly (readonly (readonly number[])[])[]): { perPass: number[]; mean: number | null } {
  const perPass = perPassGpuLoad.map((pass) => balancedness(pass).mean);
  return { perPass, mean: perPass.length ? perPass.reduce((a, b) => a + b, 0) / perPass.length : null };
}

export interface EplbComparison {
  before: number;
  after: number;
  /** after - before; > 0 means EPLB helped */
  gain: number;
  perLayer: { layer: number; before: number; after: number }[];
  /** the busiest GPU's share of each layer's load, averaged over layers (1/ep_size is ideal) */
  hottestGpuShareBefore: number;
  hottestGpuShareAfter: number;
  /** layers whose balancedness got worse by more than 0.01 */
  regressedLayers: number[];
}

function hottestShare(gpuLoad: readonly (readonly number[])[]): number {
  const shares = gpuLoad.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total > 0 ? Math.max(...row) / total : 0;
  });
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
}

export function compareEplb(before: ExpertSnapshot, after: ExpertSnapshot): EplbComparison {
  const layers = Math.min(before.numLayers, after.numLayers);
  const perLayer = Array.from({ length: layers }, (_, layer) => ({ layer, before: before.balancednessPerLayer[layer], after: after.balancednessPerLayer[layer] }));
  return {
    before: before.balancednessMean,
    after: after.balancednessMean,
    gain: after.balancednessMean - before.balancednessMean,
    perLayer,
    hottestGpuShareBefore: hottestShare(before.gpuLoad),
    hottestGpuShareAfter: hottestShare(after.gpuLoad),
    regressedLayers: perLayer.filter((l) => l.after < l.before - 0.01).map((l) => l.layer),
  };
}
