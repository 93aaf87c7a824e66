import type { Cluster } from '../cluster/types';
import { SpecValidationError } from '../util/errors';
import type { CellContext } from '../exec/cell';
import type { ClusterSpec } from '../spec/cluster-spec';

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
    return createSimCluster({ name: spec.name, nodes, gpusPerNode: spec.gpusPerNode, seed: spec.seed, nodeOverrides: spec.nodeOverrides });
  },
  async ssh(spec: SshSpec, ctx: CellContext): Promise<Cluster> {
    const { createSshCluster } = await import('../cluster/ssh-cluster');
    // the user's own files come from machine-scoped settings; files the notebook names need
    // consent (outside the notebook), are read only, and never replace the user's known_hosts
    await requireNotebookFileConsent(spec, ctx);
    return createSshCluster(
      {
        name: spec.name,
        gpusPerNode: spec.gpusPerNode,
        nodes: spec.nodes,
        preamble: spec.preamble,
        workDir: spec.workDir,
        sshConfigPath: spec.sshConfig ?? (ctx.host.setting<string>('ssh.configFile', '') || undefined),
        knownHostsPath: ctx.host.setting<string>('ssh.knownHostsFile', '') || undefined,
      },
      ctx.host,
      { notebookFiles: { sshConfig: spec.sshConfig !== undefined, knownHostsPath: spec.knownHosts } },
    );
  },
};

/** `sshConfig:` / `knownHosts:` in a cell are trust anchors chosen by whoever wrote the notebook. */
async function requireNotebookFileConsent(spec: SshSpec, ctx: CellContext): Promise<void> {
  const named: [field: 'sshConfig' | 'knownHosts', file: string][] = [];
  if (spec.sshConfig !== undefined) named.push(['sshConfig', spec.sshConfig]);
  if (spec.knownHosts !== undefined) named.push(['knownHosts', spec.knownHosts]);
  for (const [field, file] of named) {
    const id = `ssh.${field}:${file}`;
    const what = field === 'sshConfig' ? 'its own ssh_config' : 'its own known_hosts';
    const ok = (await ctx.host.consent?.(id, `This notebook asks to use ${what}: ${file}. Allow it for this workspace?`, field === 'sshConfig'
      ? 'Its hosts, users, keys and jumps would be used (ProxyCommand and Match exec are never run). Only allow files you trust.'
      : 'Keys listed there would be trusted for hosts your own known_hosts does not list; your own entries always win, and nothing is written to it.')) ?? false;
    if (!ok) {
      throw new SpecValidationError(
        `The notebook names ${what} (${file}), which needs your consent`,
        { cell: spec.name, field },
        field === 'sshConfig'
          ? 'Allow it when asked (VS Code), or run `moebench run --allow-notebook-ssh-files`; or remove `sshConfig:` and set moebench.ssh.configFile in your user settings.'
          : 'Allow it when asked (VS Code), or run `moebench run --allow-notebook-ssh-files`; or remove `knownHosts:` to use your own known_hosts.',
      );
    }
  }
}
