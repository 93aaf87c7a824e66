import type { Cluster } from '../cluster/types';
import type { CellContext } from './types';
import type { ClusterSpec } from './cluster';

type SimSpec = Extract<ClusterSpec, { kind: 'sim' }>;
type SshSpec = Extract<ClusterSpec, { kind: 'ssh' }>;

/**
 * Builders for the cluster kinds that live in their own modules (sim in core/sim, ssh in
 * core/cluster/ssh-*). Loaded lazily so a local-only notebook never loads ssh2 or the emulator.
 */
export const clusterFactories = {
  async sim(spec: SimSpec, _ctx: CellContext): Promise<Cluster> {
    const { createSimCluster } = await import('../sim/cluster');
    const nodes = typeof spec.nodes === 'number' ? Array.from({ length: spec.nodes }, (_, i) => `node${i + 1}`) : spec.nodes;
    return createSimCluster({ name: spec.name, nodes, gpusPerNode: spec.gpusPerNode, seed: spec.seed });
  },
  async ssh(spec: SshSpec, ctx: CellContext): Promise<Cluster> {
    const { createSshCluster } = await import('../cluster/ssh-cluster');
    return createSshCluster(
      {
        name: spec.name,
        gpusPerNode: spec.gpusPerNode,
        nodes: spec.nodes,
        preamble: spec.preamble,
        workDir: spec.workDir,
        sshConfigPath: spec.sshConfig ?? (ctx.host.setting<string>('ssh.configFile', '') || undefined),
        knownHostsPath: spec.knownHosts ?? (ctx.host.setting<string>('ssh.knownHostsFile', '') || undefined),
      },
      ctx.host,
    );
  },
};
