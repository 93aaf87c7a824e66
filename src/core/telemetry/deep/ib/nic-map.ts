import { nearestNics, type GpuTopology } from '../../gpu/topology';

/**
 * NIC device name ("mlx5_0") -> the GPUs that reach it best ("GPU0"), from `nvidia-smi topo -m`:
 * the NIC legend maps NICn to a device name, and a GPU uses the NICs at its closest PCIe distance
 * (what NCCL and DeepEP pick on rail-optimised nodes).
 */
export function nicGpuMap(topo: GpuTopology): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const gpus = topo.devices.filter((d) => d.startsWith('GPU'));
  for (const gpu of gpus) {
    for (const nic of nearestNics(topo, gpu)) {
      const name = topo.nicNames[nic] ?? nic;
      const list = out.get(name) ?? [];
      list.push(gpu);
      out.set(name, list);
    }
  }
  return out;
}
