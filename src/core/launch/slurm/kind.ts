import type { ClusterKindEntry } from '../kind';
import { envCommand } from '../shell/shell-quote';
import { batchScript, stepArgv } from './batch';
import { slotNames, slurmSpecSchema, type SlurmSpec } from './spec';

/** `kind: slurm`: an sbatch allocation whose ranks are srun steps (launch/slurm). Loaded lazily. */
export const slurmKind: ClusterKindEntry<SlurmSpec> = {
  kind: 'slurm',
  schema: slurmSpecSchema,
  async create(spec, ctx) {
    const { SlurmCluster } = await import('./cluster');
    const login = await loginSide(spec, ctx);
    try {
      return await SlurmCluster.create(spec, login, ctx);
    } catch (err) {
      await login.cluster.dispose();
      throw err;
    }
  },
  preview(spec) {
    return {
      cluster: { name: spec.name, kind: 'slurm', nodes: slotNames(spec).map((name) => ({ name, address: name, gpus: spec.gpusPerNode })) },
      notes: [
        spec.nodelist
          ? 'slurm: the nodes are the nodelist; their addresses (NodeAddr) are read from Slurm when the allocation runs'
          : `slurm: node1..node${slotNames(spec).length} stand for the allocation's nodes in hostlist order; their addresses (NodeAddr) are known once it runs`,
      ],
    };
  },
  launchPreview(spec, plan) {
    const lines = ['## slurm batch script (sbatch --parsable, submitted by the cluster cell)', ...batchScript(spec).trimEnd().split('\n').map((l) => `# | ${l}`), '', '## slurm steps (one per rank, from the login node; JOBID is the allocation)'];
    for (const p of plan.processes) {
      const host = spec.nodelist ? p.node : `<${p.node}>`;
      lines.push(`# ${p.id} on ${p.node}`);
      lines.push(envCommand(p.env, stepArgv(spec, { jobId: 'JOBID', host, stepName: `${plan.name}.${p.id.replace(/\//g, '.')}` }, p.argv)));
    }
    return `${lines.join('\n')}\n`;
  },
};

async function loginSide(spec: SlurmSpec, ctx: Parameters<ClusterKindEntry<SlurmSpec>['create']>[1]) {
  if (spec.login === 'local') {
    const { LocalCluster } = await import('../local/local-cluster');
    return { cluster: new LocalCluster(`${spec.name}-login`, 0), node: 'local', local: true };
  }
  const { createSshCluster } = await import('../ssh/ssh-cluster');
  const target = spec.login.ssh;
  const cluster = await createSshCluster(
    {
      name: `${spec.name}-login`,
      gpusPerNode: 0,
      nodes: [target],
      sshConfigPath: ctx.host.setting<string>('ssh.configFile', '') || undefined,
      knownHostsPath: ctx.host.setting<string>('ssh.knownHostsFile', '') || undefined,
    },
    ctx.host,
  );
  return { cluster, node: cluster.nodes[0].name, local: false };
}
