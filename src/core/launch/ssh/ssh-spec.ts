import { z } from 'zod';

/**
 * What a `moebench-cluster` cell with `kind: ssh` says about its nodes. A node is an ssh_config
 * alias (the usual case: `gpu-001`), or an explicit host with optional user/port/key/jump.
 * Values reach ssh2 as data, never a shell; only `preamble` is shell, written on purpose.
 */
export const sshNodeSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().min(1).optional(),
      host: z.string().min(1),
      user: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      identityFile: z.string().min(1).optional(),
      proxyJump: z.string().min(1).optional(),
    })
    .strict(),
]);

export const sshClusterSpecSchema = z
  .object({
    name: z.string().min(1),
    gpusPerNode: z.number().int().min(0),
    nodes: z.array(sshNodeSchema).min(1),
    /** default ~/.ssh/config */
    sshConfigPath: z.string().min(1).optional(),
    /** replaces UserKnownHostsFile / ~/.ssh/known_hosts; new keys are appended here */
    knownHostsPath: z.string().min(1).optional(),
    /** shell run before every command on the nodes, e.g. `source /opt/sglang/venv/bin/activate` */
    preamble: z.string().optional(),
    /** working directory of commands on the nodes (`~/` allowed) */
    workDir: z.string().min(1).optional(),
    connectTimeoutMs: z.number().int().min(1000).optional(),
  })
  .strict();

export type SshNodeSpec = z.infer<typeof sshNodeSchema>;
export type SshClusterSpec = z.infer<typeof sshClusterSpecSchema>;
