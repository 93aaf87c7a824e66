import * as path from 'node:path';
import type { ImportSource } from '../results/importers';
import { listRuns, readRunMeta } from '../results/run-store';
import type { RunMeta } from '../results/types';
import { CellReferenceError } from '../util/errors';
import { importForReport, loadStoredRun, type GpuOverride } from './load-runs';
import type { ComparedRun } from './types';

export interface ImportEntry {
  path: string;
  /** compare the file's runs under this name */
  label?: string;
  format?: ImportSource;
}

export interface Selection {
  /** bench cell names (this session's latest runs of the cell, else every stored run with that name) */
  compare?: string[];
  /** run ids */
  runs?: string[];
  /** runs whose tags include all of these */
  tags?: Record<string, string>;
  /** every run in the store */
  all?: boolean;
  /** names always resolve against the whole store (every repeat), not this session's latest */
  history?: boolean;
  imports?: ImportEntry[];
}

export interface SelectEnv extends GpuOverride {
  storeDir: string;
  /** relative import paths start here (the notebook folder) */
  baseDir: string;
  /** this session's run ids for a bench cell name, when it ran */
  sessionRuns?: (name: string) => string[] | undefined;
  /** for error locations */
  cell?: string;
}

async function storeMetas(storeDir: string): Promise<{ id: string; meta?: RunMeta }[]> {
  const ids = await listRuns(storeDir);
  return Promise.all(ids.map(async (id) => ({ id, meta: await readRunMeta(path.join(storeDir, id)).catch(() => undefined) })));
}

/** Resolve a report's selectors to runs (ours from the store, theirs from files), in the order asked. */
export async function selectRuns(sel: Selection, env: SelectEnv): Promise<{ runs: ComparedRun[]; skipped: { what: string; reason: string }[] }> {
  let metas: { id: string; meta?: RunMeta }[] | undefined;
  const all = async (): Promise<{ id: string; meta?: RunMeta }[]> => (metas ??= await storeMetas(env.storeDir));
  const ids: string[] = [];
  const add = (xs: readonly string[]): void => {
    for (const x of xs) if (!ids.includes(x)) ids.push(x);
  };

  for (const name of sel.compare ?? []) {
    const fromSession = sel.history ? undefined : env.sessionRuns?.(name);
    if (fromSession?.length) {
      add(fromSession);
      continue;
    }
    const stored = (await all()).filter((m) => m.meta?.name === name).map((m) => m.id);
    if (stored.length === 0) {
      const known = [...new Set((await all()).map((m) => m.meta?.name).filter((n): n is string => !!n))];
      throw new CellReferenceError(
        `No runs named "${name}" in this notebook's run store`,
        { cell: env.cell, field: 'compare' },
        known.length ? `Stored run names: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''}. Run the bench cell "${name}" first.` : `Run the bench cell "${name}" first.`,
      );
    }
    add(stored);
  }
  if (sel.runs?.length) {
    const have = new Set((await all()).map((m) => m.id));
    const missing = sel.runs.filter((id) => !have.has(id));
    if (missing.length) throw new CellReferenceError(`No run with id ${missing.join(', ')} in ${env.storeDir}`, { cell: env.cell, field: 'runs' }, 'Run ids are the folder names under .moebench/runs/.');
    add(sel.runs);
  }
  if (sel.tags && Object.keys(sel.tags).length) {
    const want = Object.entries(sel.tags);
    add((await all()).filter((m) => m.meta && want.every(([k, v]) => m.meta?.tags?.[k] === v)).map((m) => m.id));
  }
  if (sel.all) add((await all()).map((m) => m.id));

  const runs: ComparedRun[] = [];
  const skipped: { what: string; reason: string }[] = [];
  for (const id of ids) {
    const got = await loadStoredRun(path.join(env.storeDir, id), env);
    if ('run' in got) runs.push(got.run);
    else skipped.push({ what: id, reason: got.skip });
  }
  for (const entry of sel.imports ?? []) {
    const file = path.isAbsolute(entry.path) ? entry.path : path.join(env.baseDir, entry.path);
    runs.push(...(await importForReport(file, { gpus: env.gpus, label: entry.label, format: entry.format })));
  }
  return { runs, skipped };
}
