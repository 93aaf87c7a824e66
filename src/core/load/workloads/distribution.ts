import type { Rng } from '../rng';

/**
 * A number drawn per use (think time, turns per conversation, tokens per turn). The shapes of
 * vLLM's multi-turn generator (benchmarks/multi_turn/bench_dataset.py @00d39539: constant,
 * uniform, lognormal, zipf, poisson) less zipf/poisson, plus exponential (Poisson think times).
 */
export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'exponential'; mean: number }
  /** log-normal with the given mean (of the values, not of the log) and log-space sigma */
  | { kind: 'lognormal'; mean: number; sigma: number; max?: number };

export function sample(d: Distribution, rng: Rng): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return d.min + rng.next() * (d.max - d.min);
    case 'exponential':
      return d.mean > 0 ? rng.exponential(d.mean) : 0;
    case 'lognormal': {
      // E[X] = exp(mu + sigma^2 / 2)
      const mu = Math.log(Math.max(d.mean, 1e-9)) - (d.sigma * d.sigma) / 2;
      const v = Math.exp(mu + d.sigma * rng.normal());
      return d.max !== undefined ? Math.min(v, d.max) : v;
    }
  }
}

/** a count (tokens, turns): rounded, at least `min` */
export function sampleInt(d: Distribution, rng: Rng, min = 1): number {
  return Math.max(min, Math.round(sample(d, rng)));
}

export function meanOf(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'exponential':
      return d.mean;
    case 'lognormal':
      return d.mean;
  }
}

/**
 * The notebook's spelling: a number (constant), `{ uniform: [min, max] }`, `{ exponential: mean }`,
 * `{ lognormal: { mean, sigma, max? } }`, or `{ constant: v }`.
 */
export type DistributionInput = number | { constant: number } | { uniform: [number, number] } | { exponential: number } | { lognormal: { mean: number; sigma: number; max?: number } };

export function toDistribution(v: DistributionInput): Distribution {
  if (typeof v === 'number') return { kind: 'constant', value: v };
  if ('constant' in v) return { kind: 'constant', value: v.constant };
  if ('uniform' in v) return { kind: 'uniform', min: Math.min(...v.uniform), max: Math.max(...v.uniform) };
  if ('exponential' in v) return { kind: 'exponential', mean: v.exponential };
  return { kind: 'lognormal', mean: v.lognormal.mean, sigma: v.lognormal.sigma, max: v.lognormal.max };
}

export function describeDistribution(d: Distribution, unit = ''): string {
  switch (d.kind) {
    case 'constant':
      return `${d.value}${unit}`;
    case 'uniform':
      return `uniform ${d.min}–${d.max}${unit}`;
    case 'exponential':
      return `exponential, mean ${d.mean}${unit}`;
    case 'lognormal':
      return `lognormal, mean ${d.mean}${unit}, σ ${d.sigma}`;
  }
}
