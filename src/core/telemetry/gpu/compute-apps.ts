import { fieldSpec, isNotAvailable, parseLeadingNumber } from './fields';
import type { GpuInventory } from './inventory';

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export interface ComputeApp {
  gpuUuid: string;
  pid: number;
  processName: string;
  usedMemMiB?: number;
}

/**
 * `nvidia-smi --query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv[,noheader][,nounits]`.
 * One line per (process, GPU): a process spanning 4 GPUs prints 4 lines (H200x4 capture).
 * A process name may contain commas, so it takes every cell between pid and the last one.
 */
export function parseComputeApps(text: string): ComputeApp[] {
  const apps: ComputeApp[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || /no running/i.test(t)) continue;
    const raw = t.split(',');
    const cells = raw.map((c) => c.trim());
    if (cells.length < 4) continue;
    if (fieldSpec(cells[0]) !== undefined || cells[0] === 'gpu_uuid') continue; // header
    const pid = parseLeadingNumber(cells[1]);
    if (pid === undefined) continue;
    const mem = cells[cells.length - 1];
    apps.push({
      gpuUuid: cells[0],
      pid,
      processName: raw.slice(2, -1).join(',').trim(),
      usedMemMiB: isNotAvailable(mem) ? undefined : parseLeadingNumber(mem),
    });
  }
  return apps;
}

export interface GpuMemoryLeak {
  gpuUuid: string;
  gpuIndex?: number;
  pid: number;
  processName: string;
  usedMemMiB?: number;
}

/**
 * Processes still holding GPU memory after a deployment was stopped. `ignorePids` are processes
 * that are expected to stay (another user's job the user said to leave alone).
 */
export function findLeakedProcesses(apps: readonly ComputeApp[], inventory?: GpuInventory, ignorePids: readonly number[] = []): GpuMemoryLeak[] {
  const indexByUuid = new Map(inventory?.gpus.map((g) => [g.uuid, g.index]) ?? []);
  return apps
    .filter((a) => !ignorePids.includes(a.pid))
    .map((a) => ({ gpuUuid: a.gpuUuid, gpuIndex: indexByUuid.get(a.gpuUuid), pid: a.pid, processName: a.processName, usedMemMiB: a.usedMemMiB }));
}
