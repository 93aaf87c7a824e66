import type { Cluster } from '../../launch/types';
import { CommandFailedError } from '../../util/errors';
import { COMPUTE_APPS_ARGV, GPU_INVENTORY_ARGV, GPU_TOPOLOGY_ARGV } from './commands';
import { findLeakedProcesses, parseComputeApps, type GpuMemoryLeak } from './compute-apps';
import { parseGpuInventoryXml, type GpuInventory } from './inventory';
import { parseTopology, type GpuTopology } from './topology';

async function run(cluster: Cluster, node: string, argv: readonly string[], signal?: AbortSignal): Promise<string> {
  const r = await cluster.exec(node, argv, { signal });
  if (r.exitCode !== 0) {
    throw new CommandFailedError(
      `${argv.join(' ')} failed on ${node} (exit ${r.exitCode ?? r.signal ?? '?'}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
      { node },
      r.exitCode === 127 ? 'Install the NVIDIA driver utilities (nvidia-smi) on the node, or leave GPUs out of this monitor.' : 'Run the same command on the node by hand to see the full error.',
    );
  }
  return r.stdout;
}

/** Names, UUIDs, memory, power limits, clocks and PCIe, read once per node. */
export async function readGpuInventory(cluster: Cluster, node: string, signal?: AbortSignal): Promise<GpuInventory> {
  return parseGpuInventoryXml(await run(cluster, node, GPU_INVENTORY_ARGV, signal));
}

export async function readGpuTopology(cluster: Cluster, node: string, signal?: AbortSignal): Promise<GpuTopology> {
  return parseTopology(await run(cluster, node, GPU_TOPOLOGY_ARGV, signal));
}

/** Processes still holding GPU memory on a node (after a deployment stopped, this should be empty). */
export async function checkGpuLeaks(cluster: Cluster, node: string, options: { inventory?: GpuInventory; ignorePids?: number[]; signal?: AbortSignal } = {}): Promise<GpuMemoryLeak[]> {
  const apps = parseComputeApps(await run(cluster, node, COMPUTE_APPS_ARGV, options.signal));
  return findLeakedProcesses(apps, options.inventory, options.ignorePids);
}
