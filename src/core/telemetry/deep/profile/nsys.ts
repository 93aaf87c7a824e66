/**
 * Launching a rank under Nsight Systems (planner level). How to use it:
 *
 * - The planner wraps a rank's argv: `nsysProfileArgv(serverArgv, { output: '<dir>/<process-id>' })`
 *   (`nsys profile ... python3 -m sglang.launch_server ...`). With `captureRange: 'cudaProfilerApi'`
 *   nothing is recorded until the bench step calls `/start_profile` with
 *   `activities: ["CUDA_PROFILER"]` (SGLang then calls cudaProfilerStart/Stop), so the report
 *   covers the profiled step only instead of the model load.
 * - nsys writes `<output>.nsys-rep` when the capture range ends (or the process exits);
 *   `listTraceFiles` finds it and `copyTracesToRun` brings it into the run store like the
 *   torch traces. Open it with the Nsight Systems GUI (`nsys-ui`), or `nsys stats` on the node.
 * - Every rank of a multi-node server needs its own output name (the process id does that).
 */
export interface NsysOptions {
  /** report path without extension, on the node */
  output: string;
  /** default cuda,nvtx,osrt */
  trace?: string[];
  /** record only between cudaProfilerStart/Stop (default), or everything */
  captureRange?: 'cudaProfilerApi' | 'none';
  /** capture at most this many seconds */
  durationSec?: number;
}

export function nsysProfileArgv(argv: readonly string[], o: NsysOptions): string[] {
  const trace = o.trace ?? ['cuda', 'nvtx', 'osrt'];
  for (const t of trace) if (!/^[a-z0-9-]+$/.test(t)) throw new RangeError(`not an nsys trace API: ${t}`);
  const out = ['nsys', 'profile', '-o', o.output, `--trace=${trace.join(',')}`, '--force-overwrite=true'];
  if ((o.captureRange ?? 'cudaProfilerApi') === 'cudaProfilerApi') out.push('--capture-range=cudaProfilerApi', '--capture-range-end=stop');
  if (o.durationSec !== undefined) out.push(`--duration=${Math.max(1, Math.round(o.durationSec))}`);
  return [...out, ...argv];
}
