import { TELEMETRY_FILE } from '../telemetry/store';
import type { ApiKind } from '../metrics/record';
import type { RunSeries, RunSummary } from '../metrics/summary';
import type { ClientHealth, ValidityCheck } from '../metrics/validity';

export const RUN_SCHEMA_VERSION = 1;

/** meta.json: what was run, against what, from where — enough to reproduce or distrust a number. */
export interface RunMeta {
  schemaVersion: number;
  id: string;
  /** bench cell name, or the CLI label */
  name: string;
  createdAt: string;
  finishedAt?: string;
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  error?: string;
  /** position in a sweep */
  step?: { index: number; of: number; label: string; requestRate: number | 'inf'; maxConcurrency: number | null };
  /** the validated spec this run came from (cell YAML as JSON, or CLI flags) */
  spec: unknown;
  target: { url: string; api: ApiKind; deployment?: string; engine?: string; model?: string; simulated: boolean };
  provenance: {
    toolVersion: string;
    client: { hostname: string; platform: string; arch: string; cpus: number; cpuModel: string; nodeVersion: string; pid: number };
    seeds: { dataset: number; arrivals: number };
    /** the per-run salt prefixed to prompts when cache busting is on */
    cacheSalt?: string;
    /** GET /server_info (or /get_server_info) before the run; null when the server has none */
    serverInfo?: unknown;
    engineVersion?: string;
    /** GET /model_info or /v1/models */
    modelInfo?: unknown;
    /** exact launch commands of the deployment, when the target is one */
    commands?: { node: string; argv: string[]; env: Record<string, string> }[];
  };
  tags?: Record<string, string>;
}

/** summary.json */
export interface RunResultFile {
  schemaVersion: number;
  summary: RunSummary;
  series: RunSeries;
  validity: ValidityCheck[];
  client: ClientHealth;
  cancelled: boolean;
}

/** where each file of a run lives */
export const RUN_FILES = {
  meta: 'meta.json',
  requests: 'requests.jsonl',
  summary: 'summary.json',
  telemetry: TELEMETRY_FILE,
} as const;
