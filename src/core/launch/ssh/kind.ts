import { z } from 'zod';
import type { HostServices } from '../../host';
import { clusterCommonFields } from '../cluster-spec';
import { SpecValidationError } from '../../util/errors';
import type { ClusterKindEntry } from '../kind';

/** how to reach one host over SSH when it is not an ssh_config alias (also a Slurm login node's) */
export const sshHostFields = {
  host: z.string().min(1),
  user: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  identityFile: z.string().optional(),
  proxyJump: z.string().optional(),
};

const sshNodeSchema = z.union([z.string().min(1), z.object({ name: z.string().optional(), ...sshHostFields }).strict()]);

export const sshSpecSchema = z
  .object({
    name: clusterCommonFields.name,
    kind: z.literal('ssh'),
    nodes: z.array(sshNodeSchema).min(1).describe('ssh_config aliases, or {host, user, port, identityFile, proxyJump}'),
    gpusPerNode: z.number().int().min(0).max(64).default(8),
    preamble: z.string().optional().describe('shell lines run before every command (venv/conda/modules)'),
    workDir: z.string().optional(),
    sshConfig: z.string().optional().describe('path of the ssh_config file (default ~/.ssh/config)'),
    knownHosts: z.string().optional().describe('path of known_hosts (default ~/.ssh/known_hosts)'),
    doctor: clusterCommonFields.doctor,
  })
  .strict();
type SshSpec = z.output<typeof sshSpecSchema>;

/** `kind: ssh`: nodes over OpenSSH-compatible SSH (ssh2), through the shell supervisor. ssh2 loads only when used. */
export const sshKind: ClusterKindEntry<SshSpec> = {
  kind: 'ssh',
  schema: sshSpecSchema,
  async create(spec, ctx) {
    const { createSshCluster } = await import('./ssh-cluster');
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
  preview(spec) {
    return {
      cluster: {
        name: spec.name,
        kind: 'ssh',
        nodes: spec.nodes.map((n) => (typeof n === 'string' ? { name: n, address: n, gpus: spec.gpusPerNode } : { name: n.name ?? n.host, address: n.host, gpus: spec.gpusPerNode })),
      },
      notes: ['ssh nodes are shown by the host names in the cluster cell; dist-init addresses resolve on the nodes'],
    };
  },
};

/** `sshConfig:` / `knownHosts:` in a cell are trust anchors chosen by whoever wrote the notebook. */
async function requireNotebookFileConsent(spec: SshSpec, ctx: { host: HostServices }): Promise<void> {
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
