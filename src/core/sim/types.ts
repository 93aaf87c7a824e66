import type { FaultOptions } from './faults';
import type { ServerShape } from './shape';
import type { PaceOptions } from './engine/paced';

export type SimRole = 'unified' | 'prefill' | 'decode';

export interface SimServerOptions {
  /** listen address; default 127.0.0.1 (loopback only) */
  host?: string;
  /** 0 = any free port; default 0 */
  port?: number;
  role?: SimRole;
  /** no model delay: tokens go out as fast as the socket takes them */
  zeroCost?: boolean;
  /**
   * no model, exact timing: first token `ttftMs` after arrival, then one every `itlMs`, at any
   * load (the ground truth for client timing checks; events carry their emission stamps)
   */
  pace?: PaceOptions;
  /** default 1; same seed -> same token and expert counts */
  seed?: number;
  modelPath?: string;
  /** default: modelPath */
  servedModelName?: string;
  /** engine shape (tp/dp/ep, DeepEP, EPLB, TBO...); default: one node of 8 GPUs, EP8 */
  shape?: Partial<ServerShape>;
  /** fault injection */
  faults?: FaultOptions;
  /** GPU telemetry: write this process's GPU state under `<stateDir>/<nodeName>/` */
  telemetry?: { stateDir: string; nodeName: string; gpuIndices?: number[]; intervalMs?: number };
  /** where /dump_expert_distribution_record writes (SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR, default /tmp) */
  expertDumpDir?: string;
  /** log lines (SGLang-like) go here; default: nowhere */
  log?: (line: string) => void;
  /**
   * multiplies every modelled duration (1 = real time). Tests use small values to run the
   * performance model faster than real time; the reported figures stay in model time.
   */
  timeScale?: number;
  /**
   * the SGLang release to claim in /server_info and in /metrics' layout (KV-transfer gauges
   * before 0.5.10, histograms after; see telemetry/server/sglang-metric-sets.ts). Default: the
   * MOEBENCH_SIM_SGLANG_VERSION environment variable, else 0.5.15.
   */
  sglangVersion?: string;
}

export interface SimServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export interface SimRouterOptions {
  host?: string;
  port?: number;
  prefill: string[];
  decode: string[];
  /** bootstrap port per prefill URL (null = ask the prefill server's /server_info) */
  prefillBootstrapPorts?: (number | null)[];
  mode?: 'pd' | 'round_robin';
  /** regular mode: how a worker is picked (default round_robin) */
  policy?: 'round_robin' | 'cache_aware' | 'random';
  /** round_robin mode: the worker URLs */
  workers?: string[];
  log?: (line: string) => void;
}
