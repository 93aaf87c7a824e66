import { RunWriter } from '../run-store';
import type { ImportedRun } from './types';

/**
 * Put an imported run into a run store (`<store>/<id>/meta.json` + summary.json, and requests.jsonl
 * when the tool kept per-request data),
 * so it shows in the runs view and later reports like one of ours. Returns the run directory.
 */
export async function storeImportedRun(storeDir: string, run: ImportedRun): Promise<string> {
  const { schemaVersion: _v, status: _s, ...meta } = run.meta;
  const writer = await RunWriter.create(storeDir, meta);
  // the tool's per-request data, when it kept any: the same requests.jsonl our runs have
  for (const rec of run.records ?? []) writer.appendRequest(rec);
  const { schemaVersion: _rv, ...result } = run.result;
  await writer.writeSummary(result);
  await writer.close(run.meta.status);
  // close() stamps "now"; the tool's own end time is the truthful one
  await writer.updateMeta({ finishedAt: run.meta.finishedAt });
  return writer.dir;
}
