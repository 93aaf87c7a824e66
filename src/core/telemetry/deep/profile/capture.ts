import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Cluster } from '../../../launch/types';
import type { TelemetryNotice } from '../../notice';
import type { ProfileSummary } from '../../schema';
import { sleep } from '../../../util/timing';
import { startProfile, stopProfile, type ProfileRequest } from './api';
import { kernelStats, rankFromTraceName, readTraceEvents } from './chrome-trace';
import { copyTracesToRun, listTraceFiles } from './collect';

/** A server whose ranks write traces: its URL, and where each rank's node keeps them. */
export interface ProfileTarget {
  /** e.g. "decode-0" */
  endpoint: string;
  url: string;
  /** nodes its ranks run on (every node of a multi-node server writes its own ranks' traces) */
  nodes: readonly string[];
}

export interface ProfileCaptureOptions {
  cluster: Cluster;
  targets: readonly ProfileTarget[];
  /** the run directory; traces land in `<runDir>/profiles/<endpoint>@<node>/` */
  runDir: string;
  /** where the servers write traces (sent as output_dir); default /tmp/moebench-profiles/<timestamp> */
  traceDir?: string;
  request?: Omit<ProfileRequest, 'outputDir'>;
  /** how long to wait for trace files after /stop_profile (they are written asynchronously) */
  settleTimeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (n: TelemetryNotice) => void;
  now?: () => number;
}

export interface ProfileCaptureResult<T> {
  result: T;
  summaries: ProfileSummary[];
  /** local trace files (absolute), ready for a trace viewer */
  traceFiles: string[];
  traceDir: string;
}

/**
 * Profiles whatever `step` does: `/start_profile` on every target, run the step, `/stop_profile`,
 * wait for every rank's trace, copy them into the run store, and parse each into a per-rank
 * time split and top kernels. Profiling problems become notices; the step's own result and
 * errors are passed through untouched.
 *
 * Bench cell wiring: `const { result, summaries } = await captureProfile({ cluster, targets,
 * runDir }, () => runBenchmark(...))`, then `tel.record(summary)` for each summary (telemetry.jsonl)
 * and `profileDocBlocks(summaries, runDir)` into the result doc.
 */
export async function captureProfile<T>(o: ProfileCaptureOptions, step: () => Promise<T>): Promise<ProfileCaptureResult<T>> {
  const now = o.now ?? Date.now;
  const notice = (n: TelemetryNotice): void => o.onNotice?.(n);
  const traceDir = o.traceDir ?? `/tmp/moebench-profiles/${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
  const startedMs = now();
  const started: ProfileTarget[] = [];
  for (const t of o.targets) {
    try {
      await startProfile(t.url, { ...o.request, outputDir: traceDir }, { endpoint: t.endpoint, signal: o.signal });
      started.push(t);
    } catch (err) {
      notice({ endpoint: t.endpoint, level: 'warn', message: `profiler not started on ${t.endpoint}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  let result: T;
  try {
    result = await step();
  } finally {
    for (const t of started) {
      if (o.request?.numSteps !== undefined) continue;
      await stopProfile(t.url, { endpoint: t.endpoint }).catch((err: unknown) => notice({ endpoint: t.endpoint, level: 'warn', message: `stop_profile on ${t.endpoint} failed: ${err instanceof Error ? err.message : String(err)}` }));
    }
  }
  const summaries: ProfileSummary[] = [];
  const traceFiles: string[] = [];
  for (const t of started) {
    for (const node of new Set(t.nodes)) {
      const files = await waitForTraces(o.cluster, node, traceDir, startedMs, o.settleTimeoutMs ?? 30_000, o.signal);
      if (files.length === 0) {
        notice({ node, endpoint: t.endpoint, level: 'warn', message: `no profiler trace appeared in ${traceDir} on ${node} for ${t.endpoint}` });
        continue;
      }
      try {
        const copied = await copyTracesToRun(o.cluster, node, files, o.runDir, `${t.endpoint}@${node}`, o.signal);
        for (const c of copied) {
          const abs = path.join(o.runDir, c.local);
          traceFiles.push(abs);
          if (c.local.endsWith('.nsys-rep')) continue;
          try {
            const stats = kernelStats(readTraceEvents(await readFile(abs)));
            summaries.push({ kind: 'profile', tsMs: now(), endpoint: t.endpoint, node, rank: rankFromTraceName(c.local), traceFile: c.local, gpuKernelMs: stats.gpuKernelMs, splitMs: stats.splitMs, topKernels: stats.topKernels });
          } catch (err) {
            notice({ node, endpoint: t.endpoint, level: 'warn', message: `cannot read trace ${c.local}: ${err instanceof Error ? err.message : String(err)}` });
          }
        }
      } catch (err) {
        notice({ node, endpoint: t.endpoint, level: 'warn', message: `cannot copy traces from ${node}: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }
  return { result, summaries, traceFiles, traceDir };
}

/** torch writes traces after stop returns: wait until the file list stops changing */
async function waitForTraces(cluster: Cluster, node: string, dir: string, sinceMs: number, timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  const ac = new AbortController();
  const s = signal ?? ac.signal;
  for (;;) {
    const files = await listTraceFiles(cluster, node, dir, sinceMs, signal).catch(() => [] as string[]);
    if (files.length > 0 && files.join('\n') === last.join('\n')) return files;
    last = files;
    if (Date.now() > deadline || s.aborted) return files;
    await sleep(files.length > 0 ? 1000 : 500, s);
  }
}
