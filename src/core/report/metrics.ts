import type { ComparedRun, MetricDef } from './types';

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** output tokens per second a single user sees while decoding: 1000 / mean TPOT (ms) */
export function tokensPerSecPerUser(run: ComparedRun): number | null {
  const tpot = finite(run.summary.tpotMs.mean);
  return tpot !== null && tpot > 0 ? 1000 / tpot : null;
}

export function outputTokensPerSecPerGpu(run: ComparedRun): number | null {
  const out = finite(run.summary.outputThroughput);
  return out !== null && run.gpus && run.gpus.count > 0 ? out / run.gpus.count : null;
}

/**
 * The compared numbers, in table order. Every one is read from the run's summary as stored (or as
 * the imported tool reported it); only the per-GPU, per-user and error-rate figures are derived.
 */
export const REPORT_METRICS: MetricDef[] = [
  { id: 'outputThroughput', label: 'Output tok/s', unit: 'tok/s', better: 'higher', digits: 1, value: (r) => finite(r.summary.outputThroughput) },
  { id: 'requestThroughput', label: 'Req/s', unit: 'req/s', better: 'higher', digits: 2, value: (r) => finite(r.summary.requestThroughput) },
  { id: 'ttftP50', label: 'TTFT p50', unit: 'ms', better: 'lower', digits: 1, value: (r) => finite(r.summary.ttftMs.median) },
  { id: 'ttftP99', label: 'TTFT p99', unit: 'ms', better: 'lower', digits: 1, value: (r) => finite(r.summary.ttftMs.p['p99']) },
  { id: 'tpotP50', label: 'TPOT p50', unit: 'ms', better: 'lower', digits: 2, value: (r) => finite(r.summary.tpotMs.median) },
  { id: 'itlP99', label: 'ITL p99', unit: 'ms', better: 'lower', digits: 2, value: (r) => finite(r.summary.itlMs.p['p99']) },
  { id: 'e2eP50', label: 'E2E p50', unit: 'ms', better: 'lower', digits: 0, value: (r) => finite(r.summary.e2eMs.median) },
  { id: 'outputPerGpu', label: 'Output tok/s/GPU', unit: 'tok/s/GPU', better: 'higher', digits: 1, value: outputTokensPerSecPerGpu },
  { id: 'tokPerUser', label: 'tok/s/user', unit: 'tok/s', better: 'higher', digits: 1, value: tokensPerSecPerUser },
  { id: 'joulesPerToken', label: 'J/output tok', unit: 'J', better: 'lower', digits: 3, value: (r) => r.energy?.joulesPerOutputToken ?? null },
  {
    id: 'errorRate',
    label: 'Errors',
    unit: '%',
    better: 'lower',
    digits: 2,
    value: (r) => {
      const failed = finite(r.summary.failed);
      const total = r.summary.completed + (failed ?? 0);
      return failed === null || total === 0 ? null : (100 * failed) / total;
    },
  },
];
