import { readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { RUN_FILES } from '../results/types';
import type { FaultOutcome, InjectedFault } from './analyze';

/** What a run's summary.json and meta.json carry about its faults (an additive `faults` key). */
export interface RunFaults {
  injected: InjectedFault[];
  outcomes: FaultOutcome[];
  analysis: { recoverAfter: number; stallMs: number };
}

async function patchJson(file: string, key: string, value: unknown): Promise<void> {
  const obj = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  obj[key] = value;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(obj, null, 2) + '\n', 'utf8');
  await rename(tmp, file);
}

/** Adds `faults` to summary.json (measured outcome) and meta.json (what was injected, when). */
export async function recordRunFaults(runDir: string, faults: RunFaults): Promise<void> {
  await patchJson(path.join(runDir, RUN_FILES.summary), 'faults', faults);
  await patchJson(path.join(runDir, RUN_FILES.meta), 'faults', { injected: faults.injected });
}
