/**
 * Seeded pseudo-random numbers for datasets and arrival schedules. Same seed, same workload and
 * the same schedule on every machine (numpy's streams are not reproduced: only the distributions).
 */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [lo, hi], both inclusive (numpy's randint(lo, hi + 1)) */
  int(lo: number, hi: number): number;
  /** exponential with the given mean */
  exponential(mean: number): number;
  /** gamma(shape k, scale θ): mean kθ */
  gamma(shape: number, scale: number): number;
  /** standard normal */
  normal(): number;
  /** Fisher–Yates shuffle in place */
  shuffle<T>(items: T[]): T[];
  pick<T>(items: readonly T[]): T;
}

/** splitmix32 to spread a small integer seed over the state, then xoshiro128** (fast, good quality). */
export function createRng(seed: number): Rng {
  let s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  if ((a | b | c | d) === 0) a = 1;

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  // 53 random bits per double, as numpy does
  const next = (): number => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992;

  let spareNormal: number | undefined;
  const normal = (): number => {
    if (spareNormal !== undefined) {
      const v = spareNormal;
      spareNormal = undefined;
      return v;
    }
    let u = 0;
    let v = 0;
    let r = 0;
    do {
      u = next() * 2 - 1;
      v = next() * 2 - 1;
      r = u * u + v * v;
    } while (r >= 1 || r === 0);
    const m = Math.sqrt((-2 * Math.log(r)) / r);
    spareNormal = v * m;
    return u * m;
  };

  // Marsaglia & Tsang (2000); shape < 1 boosted with U^(1/k)
  const gamma = (shape: number, scale: number): number => {
    if (!(shape > 0) || !(scale > 0)) throw new RangeError(`gamma needs shape > 0 and scale > 0 (got ${shape}, ${scale})`);
    if (shape < 1) return gamma(shape + 1, scale) * Math.pow(1 - next(), 1 / shape);
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x = 0;
      let v = 0;
      do {
        x = normal();
        v = 1 + cc * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - next();
      if (u < 1 - 0.0331 * x * x * x * x) return dd * v * scale;
      if (Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v))) return dd * v * scale;
    }
  };

  return {
    next,
    int: (lo, hi) => {
      if (hi < lo) throw new RangeError(`empty range [${lo}, ${hi}]`);
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    exponential: (mean) => -Math.log(1 - next()) * mean,
    gamma,
    normal,
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)];
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
