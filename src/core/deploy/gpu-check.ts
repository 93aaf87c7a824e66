import type { Cluster } from '../launch/types';

/**
 * After a stop, proof on each node that none of the deployment's processes still holds a GPU:
 * the pids of every stopped process group are collected BEFORE the stop (a server's GPU
 * workers are children of the launched process, in its group), and afterwards
 * `nvidia-smi --query-compute-apps` must list none of them.
 */

export const COMPUTE_APPS_QUERY = ['nvidia-smi', '--query-compute-apps=pid,process_name,used_memory', '--format=csv,noheader'] as const;

export interface ComputeAppRow {
  pid: number;
  processName: string;
  usedMemory: string;
}

/** `pid, process_name, used_memory` lines; a process name may itself contain commas. */
export function parseComputeAppRows(text: string): ComputeAppRow[] {
  const rows: ComputeAppRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(',');
    if (cells.length < 3) continue;
    const pid = Number(cells[0].trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    rows.push({ pid, processName: cells.slice(1, -1).join(',').trim(), usedMemory: cells[cells.length - 1].trim() });
  }
  return rows;
}

export type GpuCheck =
  | { node: string; result: 'clean'; otherApps: ComputeAppRow[] }
  | { node: string; result: 'leftover'; ours: ComputeAppRow[]; otherApps: ComputeAppRow[] }
  | { node: string; result: 'no-nvidia-smi'; detail: string }
  | { node: string; result: 'failed'; detail: string };

/**
 * Query a node's compute apps until none of `ourPids` is listed (the driver releases a killed
 * process's context a moment after it dies), or `settleMs` has passed.
 */
export async function checkNodeGpus(cluster: Cluster, node: string, ourPids: readonly number[], options: { settleMs?: number; signal?: AbortSignal } = {}): Promise<GpuCheck> {
  const deadline = Date.now() + (options.settleMs ?? 5000);
  const ours = new Set(ourPids);
  for (;;) {
    let stdout: string;
    try {
      const r = await cluster.exec(node, [...COMPUTE_APPS_QUERY], { signal: options.signal, captureLimitBytes: 1024 * 1024 });
      if (r.exitCode === 127 || /command not found|No such file/i.test(r.stderr)) return { node, result: 'no-nvidia-smi', detail: `nvidia-smi is not installed on ${node}; the GPU check was skipped` };
      // a machine with the tool but no driver (CI, a CPU login node) says so on stdout or stderr
      if (r.exitCode !== 0) {
        const msg = (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '';
        if (/couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed|No devices were found/i.test(msg)) return { node, result: 'no-nvidia-smi', detail: `nvidia-smi on ${node} found no GPU driver (${msg}); the GPU check was skipped` };
        return { node, result: 'failed', detail: `nvidia-smi exited ${r.exitCode ?? r.signal}: ${msg}` };
      }
      stdout = r.stdout;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (/Could not start nvidia-smi|ENOENT/i.test(msg)) return { node, result: 'no-nvidia-smi', detail: `nvidia-smi is not installed on ${node}; the GPU check was skipped` };
      return { node, result: 'failed', detail: msg };
    }
    const rows = parseComputeAppRows(stdout);
    const left = rows.filter((r) => ours.has(r.pid));
    const others = rows.filter((r) => !ours.has(r.pid));
    if (left.length === 0) return { node, result: 'clean', otherApps: others };
    if (Date.now() >= deadline || options.signal?.aborted) return { node, result: 'leftover', ours: left, otherApps: others };
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function describeGpuCheck(c: GpuCheck): string {
  switch (c.result) {
    case 'clean':
      return c.otherApps.length ? `no process of this deployment on the GPUs (${c.otherApps.length} other compute app${c.otherApps.length === 1 ? '' : 's'})` : 'no GPU process left';
    case 'leftover':
      return `STILL ON THE GPUS: ${c.ours.map((r) => `pid ${r.pid} ${r.processName} (${r.usedMemory})`).join(', ')}`;
    case 'no-nvidia-smi':
      return c.detail;
    case 'failed':
      return `GPU check failed: ${c.detail}`;
  }
}
