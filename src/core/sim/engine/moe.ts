import { Rng, mix32 } from '../rng';

/**
 * MoE routing on an expert-parallel group: per-layer Zipf-skewed expert popularity, physical
 * expert slots laid out contiguously per GPU (slot j lives on GPU floor(j / slotsPerGpu)), token
 * load of a logical expert split evenly over its replicas, and an EPLB that replicates hot
 * experts into redundant slots and packs replicas onto GPUs (DeepSeek's balanced packing,
 * non-hierarchical).
 */
export interface MoeConfig {
  layers: number;
  experts: number;
  topK: number;
  /** EP size; 1 = experts TP-sharded over `tpSize` GPUs (always balanced) */
  epSize: number;
  tpSize: number;
  redundantExperts: number;
  seed: number;
  /** Zipf exponent of expert popularity within a layer */
  zipfExponent: number;
}

export interface PassResult {
  /** logical (token, expert) counts, layer-major: [layer * experts + expert] */
  logicalCounts: Int32Array;
  /** per layer: pairs on the busiest GPU */
  maxGpuPairs: number[];
  /** SGLang's metric: mean over layers of (mean GPU load + 1e-5) / (max GPU load + 1e-5) */
  balancedness: number;
}

/** calibrated so EPLB's gain lands near the blog's ablation (README) */
export const DEFAULT_ZIPF_EXPONENT = 0.5;

export class MoeRouting {
  readonly physicalExperts: number;
  readonly slotsPerGpu: number;
  /** selection probability per token of each logical expert, layer-major; sums to topK per layer */
  private readonly popularity: Float64Array;
  /** physical slot -> logical expert, layer-major */
  physicalToLogical: Int32Array;
  private replicas: Int32Array;
  private passIndex = 0;
  private readonly gpuCount: number;

  constructor(readonly config: MoeConfig) {
    const { layers, experts, redundantExperts, epSize } = config;
    this.physicalExperts = experts + (epSize > 1 ? redundantExperts : 0);
    this.gpuCount = Math.max(1, epSize);
    this.slotsPerGpu = this.physicalExperts / this.gpuCount;
    this.popularity = new Float64Array(layers * experts);
    const rng = new Rng(mix32(config.seed, 0x6e0e));
    for (let l = 0; l < layers; l++) {
      const order = Array.from({ length: experts }, (_, i) => i);
      for (let i = experts - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let total = 0;
      const w = new Float64Array(experts);
      for (let r = 0; r < experts; r++) {
        w[order[r]] = 1 / Math.pow(r + 1, config.zipfExponent);
        total += w[order[r]];
      }
      for (let e = 0; e < experts; e++) this.popularity[l * experts + e] = Math.min(1, (config.topK * w[e]) / total);
    }
    this.physicalToLogical = new Int32Array(layers * this.physicalExperts);
    this.replicas = new Int32Array(layers * experts);
    this.setTrivialPlacement();
  }

  /** SGLang's `trivial` layout: physical i holds logical i % experts */
  setTrivialPlacement(): void {
    const { layers, experts } = this.config;
    this.replicas.fill(0);
    for (let l = 0; l < layers; l++) {
      for (let p = 0; p < this.physicalExperts; p++) {
        const e = p % experts;
        this.physicalToLogical[l * this.physicalExperts + p] = e;
        this.replicas[l * experts + e]++;
      }
    }
  }

  /** Use an explicit physical_to_logical_map [layers][physical]. */
  setPlacement(map: readonly (readonly number[])[]): void {
    const { layers, experts } = this.config;
    if (map.length !== layers || map.some((row) => row.length !== this.physicalExperts)) {
      throw new Error(`physical_to_logical_map must be [${layers}][${this.physicalExperts}]`);
    }
    this.replicas.fill(0);
    for (let l = 0; l < layers; l++) {
      for (let p = 0; p < this.physicalExperts; p++) {
        const e = map[l][p];
        this.physicalToLogical[l * this.physicalExperts + p] = e;
        this.replicas[l * experts + e]++;
      }
    }
  }

  /** EPLB from logical load statistics (layer-major sums over passes). */
  rebalance(logicalLoad: ArrayLike<number>): void {
    const { layers, experts } = this.config;
    if (this.gpuCount <= 1) return;
    const P = this.physicalExperts;
    for (let l = 0; l < layers; l++) {
      const load = new Float64Array(experts);
      for (let e = 0; e < experts; e++) load[e] = logicalLoad[l * experts + e] + 1e-6;
      const rep = new Int32Array(experts).fill(1);
      for (let r = experts; r < P; r++) {
        let best = 0;
        for (let e = 1; e < experts; e++) if (load[e] / rep[e] > load[best] / rep[best]) best = e;
        rep[best]++;
      }
      const items: { e: number; w: number }[] = [];
      for (let e = 0; e < experts; e++) for (let k = 0; k < rep[e]; k++) items.push({ e, w: load[e] / rep[e] });
      items.sort((a, b) => b.w - a.w || a.e - b.e);
      const gpuLoad = new Float64Array(this.gpuCount);
      const gpuFill = new Int32Array(this.gpuCount);
      const slots: number[][] = Array.from({ length: this.gpuCount }, () => []);
      for (const it of items) {
        let g = -1;
        for (let k = 0; k < this.gpuCount; k++) {
          if (gpuFill[k] >= this.slotsPerGpu) continue;
          if (g < 0 || gpuLoad[k] < gpuLoad[g]) g = k;
        }
        gpuLoad[g] += it.w;
        gpuFill[g]++;
        slots[g].push(it.e);
      }
      for (let g = 0; g < this.gpuCount; g++) {
        for (let s = 0; s < this.slotsPerGpu; s++) {
          const e = slots[g][s];
          this.physicalToLogical[l * P + g * this.slotsPerGpu + s] = e;
        }
      }
      for (let e = 0; e < experts; e++) this.replicas[l * experts + e] = rep[e];
    }
  }

  /** Route one forward pass of `tokens` tokens (all ranks together); deterministic per pass index. */
  pass(tokens: number): PassResult {
    const { layers, experts } = this.config;
    const counts = new Int32Array(layers * experts);
    const maxGpuPairs: number[] = new Array<number>(layers).fill(0);
    const passId = this.passIndex++;
    if (tokens <= 0) return { logicalCounts: counts, maxGpuPairs, balancedness: 1 };
    const rng = new Rng(mix32(this.config.seed, 0x9a55, passId));
    for (let i = 0; i < counts.length; i++) {
      const p = this.popularity[i];
      const mean = tokens * p;
      const sd = Math.sqrt(mean * (1 - p));
      counts[i] = Math.max(0, Math.round(mean + sd * rng.normal()));
    }
    if (this.gpuCount <= 1) {
      const tp = Math.max(1, this.config.tpSize);
      for (let l = 0; l < layers; l++) {
        let s = 0;
        for (let e = 0; e < experts; e++) s += counts[l * experts + e];
        maxGpuPairs[l] = s / tp;
      }
      return { logicalCounts: counts, maxGpuPairs, balancedness: 1 };
    }
    const P = this.physicalExperts;
    const gpuLoad = new Float64Array(this.gpuCount);
    let balancedSum = 0;
    for (let l = 0; l < layers; l++) {
      gpuLoad.fill(0);
      for (let p = 0; p < P; p++) {
        const e = this.physicalToLogical[l * P + p];
        gpuLoad[Math.floor(p / this.slotsPerGpu)] += counts[l * experts + e] / this.replicas[l * experts + e];
      }
      let max = 0;
      let sum = 0;
      for (let g = 0; g < this.gpuCount; g++) {
        sum += gpuLoad[g];
        if (gpuLoad[g] > max) max = gpuLoad[g];
      }
      maxGpuPairs[l] = max;
      balancedSum += (sum / this.gpuCount + 1e-5) / (max + 1e-5);
    }
    return { logicalCounts: counts, maxGpuPairs, balancedness: balancedSum / layers };
  }

  /** the current layout as [layers][physical] */
  placementRows(): number[][] {
    const rows: number[][] = [];
    for (let l = 0; l < this.config.layers; l++) rows.push(Array.from(this.physicalToLogical.subarray(l * this.physicalExperts, (l + 1) * this.physicalExperts)));
    return rows;
  }
}
