import { gateChecks } from '../metrics/run-gate';
import { readServerViews } from './server-views';
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import { importFile, isImportedMeta, type ImportedRun, type ImportSource } from '../results/importers';
import { listRuns, readRunMeta, readRunResult } from '../results/run-store';
import { RUN_FILES, type RunMeta, type RunResultFile } from '../results/types';
import { phaseWindow, runEfficiency, windowEfficiency } from '../telemetry/energy';
import { readTelemetryFile } from '../telemetry/recorder';
import type { GpuSample } from '../telemetry/schema';
import { gpuCountFromCommands } from './gpus';
import type { ComparedRun } from './types';

export interface GpuOverride {
  /**
   * per series name / run id: wins over everything; one number: for runs whose launch commands
   * do not tell (it still beats a telemetry count, which may include idle GPUs)
   */
  gpus?: number | Record<string, number>;
}

function gpuNamed(o: GpuOverride, series: string, id: string): number | undefined {
  return typeof o.gpus === 'number' ? undefined : (o.gpus?.[id] ?? o.gpus?.[series]);
}

/** the load of a run: the sweep step, else the spec's single values */
function loadOf(meta: RunMeta): ComparedRun['load'] {
  if (meta.step) return { maxConcurrency: meta.step.maxConcurrency, requestRate: meta.step.requestRate };
  const load = (meta.spec as { load?: { maxConcurrency?: unknown; requestRate?: unknown } } | null)?.load;
  const c = typeof load?.maxConcurrency === 'number' ? load.maxConcurrency : null;
  const r = typeof load?.requestRate === 'number' ? load.requestRate : load?.requestRate === 'inf' ? 'inf' : null;
  return { maxConcurrency: c, requestRate: r };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Energy per output token from the run's telemetry.jsonl power samples: over the measured window
 * the bench recorded (windowEfficiency: the definition the bench cell's telemetry table uses, so
 * both show one number), else over the "run" phase when marked, else over every sample.
 */
async function energyOf(runDir: string, outputTokens: number, gpuCount: number | undefined): Promise<ComparedRun['energy']> {
  const file = path.join(runDir, RUN_FILES.telemetry);
  if (!(await exists(file))) return null;
  const { records } = await readTelemetryFile(file);
  const samples = records.filter((r): r is GpuSample => r.kind === 'gpu' && r.gpus.some((g) => g.powerW !== undefined));
  if (samples.length < 2 || !(outputTokens > 0)) return null;
  const measured = phaseWindow(records, 'measured');
  const window = measured ?? phaseWindow(records, 'run');
  const eff = measured ? windowEfficiency(samples, measured, { outputTokens, gpuCount }) : runEfficiency(samples, { outputTokens, gpuCount, startMs: window?.startMs, endMs: window?.endMs });
  if (eff.joulesPerOutputToken === null || !(eff.joules > 0)) return null;
  return { joulesPerOutputToken: eff.joulesPerOutputToken, avgPowerW: eff.avgPowerW, from: 'telemetry' };
}

async function telemetryGpuCount(runDir: string): Promise<number | null> {
  const file = path.join(runDir, RUN_FILES.telemetry);
  if (!(await exists(file))) return null;
  const { records } = await readTelemetryFile(file);
  const seen = new Set<string>();
  for (const r of records) if (r.kind === 'gpu') for (const g of r.gpus) seen.add(`${r.node}/${g.index}`);
  return seen.size || null;
}

export type LoadOutcome = { run: ComparedRun } | { skip: string };

/** One stored run (ours, or an import someone stored) as a ComparedRun. */
export async function loadStoredRun(runDir: string, o: GpuOverride = {}): Promise<LoadOutcome> {
  let meta: RunMeta;
  try {
    meta = await readRunMeta(runDir);
  } catch (err) {
    return { skip: `unreadable meta.json (${(err as Error).message})` };
  }
  if (meta.status === 'running') return { skip: `"${meta.name}" is still running (or its process died before finishing)` };
  let result: RunResultFile;
  try {
    result = await readRunResult(runDir);
  } catch {
    return { skip: `"${meta.name}" ${meta.status === 'failed' ? `failed${meta.error ? `: ${meta.error}` : ''}` : 'has no summary.json'}` };
  }
  const imported = isImportedMeta(meta) ? meta : undefined;
  const series = meta.name;
  const named = gpuNamed(o, series, meta.id);
  const fallback = typeof o.gpus === 'number' ? o.gpus : undefined;
  const fromCommands = named === undefined ? gpuCountFromCommands(meta.provenance.commands) : null;
  const fromTelemetry = named === undefined && fromCommands === null && fallback === undefined ? await telemetryGpuCount(runDir) : null;
  const gpus: ComparedRun['gpus'] =
    named !== undefined
      ? { count: named, from: 'report spec' }
      : fromCommands !== null
        ? { count: fromCommands, from: 'launch commands' }
        : fallback !== undefined
          ? { count: fallback, from: 'report spec' }
          : fromTelemetry !== null
            ? { count: fromTelemetry, from: 'telemetry' }
            : null;
  const toolEnergy = imported?.extras['energy_per_output_token_J'];
  const energy = typeof toolEnergy === 'number' ? { joulesPerOutputToken: toolEnergy, avgPowerW: null, from: 'tool' as const } : await energyOf(runDir, result.summary.totalOutputTokens, gpus?.count);
  return {
    run: {
      id: meta.id,
      series,
      point: meta.step?.label ?? '',
      load: loadOf(meta),
      source: imported?.source ?? 'moebench',
      simulated: meta.target.simulated,
      status: meta.status,
      createdAt: meta.createdAt,
      summary: result.summary,
      // the servers' verdict (zero tokens, KV failures, aborts, token mismatch) marks the run INVALID
      validity: [...(result.validity ?? []), ...(await gateChecks(runDir).catch(() => []))],
      gpus,
      energy,
      definitionNotes: imported?.definitionNotes ?? [],
      location: runDir,
      serverViews: await readServerViews(runDir),
    },
  };
}

/** An imported run straight from its file (not stored). `label` renames its series. */
export function comparedFromImport(run: ImportedRun, o: GpuOverride & { label?: string } = {}): ComparedRun {
  const series = o.label ?? run.meta.name;
  const override = gpuNamed(o, series, run.meta.id) ?? (typeof o.gpus === 'number' ? o.gpus : undefined);
  const toolEnergy = run.meta.extras['energy_per_output_token_J'];
  return {
    id: run.meta.id,
    series,
    point: run.meta.step?.label ?? '',
    load: loadOf(run.meta),
    source: run.meta.source,
    simulated: false,
    status: run.meta.status,
    createdAt: run.meta.createdAt,
    summary: run.result.summary,
    validity: run.result.validity,
    gpus: override !== undefined ? { count: override, from: 'report spec' } : null,
    energy: typeof toolEnergy === 'number' ? { joulesPerOutputToken: toolEnergy, avgPowerW: null, from: 'tool' } : null,
    definitionNotes: run.meta.definitionNotes,
    location: run.meta.importedFrom.file,
  };
}

export async function importForReport(file: string, o: GpuOverride & { label?: string; format?: ImportSource } = {}): Promise<ComparedRun[]> {
  return (await importFile(file, o.format)).map((r) => comparedFromImport(r, o));
}

/** Every run in a store (oldest first), with the ones that cannot be compared and why. */
export async function loadStore(storeDir: string, o: GpuOverride = {}): Promise<{ runs: ComparedRun[]; skipped: { what: string; reason: string }[] }> {
  const runs: ComparedRun[] = [];
  const skipped: { what: string; reason: string }[] = [];
  for (const id of await listRuns(storeDir)) {
    const got = await loadStoredRun(path.join(storeDir, id), o);
    if ('run' in got) runs.push(got.run);
    else skipped.push({ what: id, reason: got.skip });
  }
  return { runs, skipped };
}
