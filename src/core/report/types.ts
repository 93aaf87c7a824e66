import type { RunSummary } from '../metrics/summary';
import type { ValidityCheck } from '../metrics/validity';
import type { ImportSource } from '../results/importers';
import type { RunMeta } from '../results/types';
import type { StoredServerViews } from './server-views';

export type RunSource = 'moebench' | ImportSource;

/** One run as the report sees it: ours from the store, or another tool's, imported. */
export interface ComparedRun {
  id: string;
  /** what the run is compared as: the bench cell name, the tool's tag/label, or a label given in the report */
  series: string;
  /** position in a sweep ("c=64"), "" for a single run */
  point: string;
  load: { maxConcurrency: number | null; requestRate: number | 'inf' | null };
  source: RunSource;
  simulated: boolean;
  status: RunMeta['status'];
  createdAt: string;
  summary: RunSummary;
  validity: ValidityCheck[];
  /** GPUs serving the run, and where that number came from */
  gpus: { count: number; from: 'report spec' | 'launch commands' | 'telemetry' } | null;
  energy: { joulesPerOutputToken: number; avgPowerW: number | null; from: 'telemetry' | 'tool' } | null;
  /** how an imported tool's numbers map onto ours */
  definitionNotes: string[];
  /** where the raw data is: a run directory or an imported file */
  location: string;
  /** TTFT decomposition, cache and reasoning figures the bench cell stored (server-views.json) */
  serverViews?: StoredServerViews;
}

/** Runs sharing a series and a point: repeats of the same measurement. */
export interface ReportRow {
  key: string;
  series: string;
  point: string;
  label: string;
  runs: ComparedRun[];
}

export interface MetricValue {
  mean: number | null;
  min: number | null;
  max: number | null;
  /** sample standard deviation over repeats (n ≥ 2), else null */
  std: number | null;
  n: number;
}

export interface MetricDef {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  value(run: ComparedRun): number | null;
}

export interface ReportModel {
  title: string;
  rows: ReportRow[];
  metrics: MetricDef[];
  /** values[rowKey][metricId] */
  values: Map<string, Map<string, MetricValue>>;
  /** delta vs the baseline row, as a fraction (0.05 = +5%); undefined when no baseline matches */
  deltas: Map<string, Map<string, number | null>>;
  baseline: { series: string; rowKeys: Set<string> } | null;
  /** rows per baseline-matched row: which baseline row it was compared with */
  baselineOf: Map<string, string>;
  /** runs that could not be compared, with the reason */
  skipped: { what: string; reason: string }[];
}
