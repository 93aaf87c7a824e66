import type { ClusterSpec } from '../spec/cluster-spec';
import type { PlanCluster } from './resolve';

/**
 * A PlanCluster from a cluster cell's spec, without connecting anywhere (for `moebench plan` and
 * previews before the cluster cell ran). Once the cluster is up, plan against `Cluster.nodes`,
 * which carries the real addresses and GPU counts.
 */
export function planClusterFromSpec(spec: ClusterSpec): { cluster: PlanCluster; notes: string[] } {
  const notes: string[] = [];
  switch (spec.kind) {
    case 'ssh':
      return {
        cluster: {
          name: spec.name,
          kind: 'ssh',
          nodes: spec.nodes.map((n) => (typeof n === 'string' ? { name: n, address: n, gpus: spec.gpusPerNode } : { name: n.name ?? n.host, address: n.host, gpus: spec.gpusPerNode })),
        },
        notes: ['ssh nodes are shown by the host names in the cluster cell; dist-init addresses resolve on the nodes'],
      };
    case 'sim': {
      const names = typeof spec.nodes === 'number' ? Array.from({ length: spec.nodes }, (_, i) => `node${i + 1}`) : spec.nodes;
      notes.push('sim: each node gets its own loopback address when the cluster starts; node names stand in for them here');
      return { cluster: { name: spec.name, kind: 'sim', nodes: names.map((name) => ({ name, address: name, gpus: spec.gpusPerNode })) }, notes };
    }
    case 'local': {
      const gpus = spec.gpusPerNode ?? 8;
      if (spec.gpusPerNode === undefined) notes.push('local: GPUs are detected when the cluster cell runs; this preview assumes 8 (set gpusPerNode to change it)');
      return { cluster: { name: spec.name, kind: 'local', nodes: [{ name: 'local', address: '127.0.0.1', gpus }] }, notes };
    }
  }
}
