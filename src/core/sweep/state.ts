import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import type { Override } from './matrix';

/**
 * A sweep's progress on disk, `<notebook dir>/.moebench/sweeps/<bench name>.json`: per finished
 * matrix cell its run ids and balancedness, so a re-run after an interruption skips them. The
 * fingerprint covers what makes a cell's result mean something (the bench spec without the matrix,
 * and the deploy cell's text); when it changes, earlier cells are not reused.
 */
const cellStateSchema = z.object({
  key: z.string(),
  label: z.string(),
  overrides: z.array(z.tuple([z.string(), z.unknown()])),
  deployment: z.string(),
  status: z.enum(['done', 'failed']),
  runIds: z.array(z.string()),
  balancedness: z.number().nullable(),
  finishedAt: z.string(),
  error: z.string().optional(),
});

const sweepStateSchema = z.object({
  version: z.literal(1),
  bench: z.string(),
  fingerprint: z.string(),
  deployment: z.string(),
  updatedAt: z.string(),
  cells: z.array(cellStateSchema),
});

export type SweepCellState = z.infer<typeof cellStateSchema> & { overrides: Override[] };
export type SweepState = z.infer<typeof sweepStateSchema>;

export function sweepStatePath(notebookPath: string, bench: string): string {
  return path.join(path.dirname(notebookPath), '.moebench', 'sweeps', `${bench}.json`);
}

export function sweepFingerprint(benchSpecWithoutMatrix: unknown, deploySource: string): string {
  return createHash('sha256').update(JSON.stringify(benchSpecWithoutMatrix)).update('\n--deploy--\n').update(deploySource).digest('hex').slice(0, 16);
}

/** the saved state, or undefined when there is none or it cannot be read (a broken file is not fatal: start over) */
export async function loadSweepState(file: string): Promise<{ state?: SweepState; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    const parsed = sweepStateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { problem: `${file} is not a sweep state file (${parsed.error.issues[0]?.message ?? 'invalid'})` };
    return { state: parsed.data };
  } catch (err) {
    return { problem: `${file} is not JSON: ${(err as Error).message}` };
  }
}

export async function saveSweepState(file: string, state: SweepState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2) + '\n', 'utf8');
  await rename(tmp, file);
}
