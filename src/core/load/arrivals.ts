import type { Rng } from './rng';

/**
 * When requests are due, as offsets in ms from the run's t0. The runner dispatches against these
 * planned times (never "sleep after each send", which drifts: vLLM #21104 lost 9% of its rate so).
 */
export type ArrivalSpec =
  /** gamma-distributed gaps with shape = burstiness (1 = Poisson; <1 burstier; inf = constant) */
  | { kind: 'poisson'; ratePerSec: number; burstiness?: number }
  | { kind: 'constant'; ratePerSec: number }
  /** every request due at t0 (bench_serving's --request-rate inf; with max concurrency = closed loop) */
  | { kind: 'all-at-once' }
  /** replay: offsets from a trace, multiplied by `timeScale` (2 = half speed) */
  | { kind: 'trace'; offsetsMs: readonly number[]; timeScale?: number };

export interface ArrivalOptions {
  /**
   * vLLM rescales the sampled gaps so the last of `count` requests lands exactly at count/rate;
   * SGLang does not. Only meaningful with a known count.
   */
  rescaleToCount?: number;
}

/** Planned offsets (ms), lazily; finite only for traces. The first request is due at 0 (as in SGLang). */
export function* arrivalOffsets(spec: ArrivalSpec, rng: Rng, options: ArrivalOptions = {}): Generator<number, void, undefined> {
  switch (spec.kind) {
    case 'all-at-once':
      for (;;) yield 0;
    case 'constant': {
      assertRate(spec.ratePerSec);
      const gapMs = 1000 / spec.ratePerSec;
      for (let i = 0; ; i++) yield i * gapMs;
    }
    case 'poisson': {
      assertRate(spec.ratePerSec);
      const burstiness = spec.burstiness ?? 1;
      if (!(burstiness > 0)) throw new RangeError(`burstiness must be > 0 (got ${burstiness})`);
      const meanGapMs = 1000 / spec.ratePerSec;
      const gap = (): number => (burstiness === Infinity ? meanGapMs : burstiness === 1 ? rng.exponential(meanGapMs) : rng.gamma(burstiness, meanGapMs / burstiness));
      const n = options.rescaleToCount;
      if (n !== undefined && n > 0) {
        // vLLM: cumulative delays of all n requests, scaled so the total is exactly n / rate
        const cum: number[] = [];
        let acc = 0;
        for (let i = 0; i < n; i++) {
          acc += gap();
          cum.push(acc);
        }
        const factor = (n * meanGapMs) / acc;
        for (const c of cum) yield c * factor;
        return;
      }
      let t = 0;
      for (;;) {
        yield t;
        t += gap();
      }
    }
    case 'trace': {
      const scale = spec.timeScale ?? 1;
      const first = spec.offsetsMs.length ? spec.offsetsMs[0] : 0;
      for (const o of spec.offsetsMs) yield Math.max(0, (o - first) * scale);
      return;
    }
  }
}

function assertRate(rate: number): void {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`request rate must be a positive finite number (got ${rate})`);
}

/** SGLang's --request-rate plus vLLM's --burstiness: inf means all at once. */
export function arrivalForRate(ratePerSec: number, burstiness = 1): ArrivalSpec {
  if (!Number.isFinite(ratePerSec)) return { kind: 'all-at-once' };
  if (burstiness === Infinity) return { kind: 'constant', ratePerSec };
  return { kind: 'poisson', ratePerSec, burstiness };
}
