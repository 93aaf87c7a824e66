/**
 * Test helper around test/lab/start.sh and stop.sh: a loopback cluster of real OpenSSH servers.
 * Each `startLab()` gets its own directory, keys, agent and port, so test files can run in parallel.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
// tests run as CommonJS under tsx
const here = __dirname;

export interface LabNode {
  name: string;
  host: string;
  port: number;
  /** host pid of the namespace launcher; its child is the node's sshd */
  launcherPid: number;
}

export interface Lab {
  dir: string;
  sshConfigPath: string;
  /** plain known_hosts that the generated ssh_config names as UserKnownHostsFile */
  knownHostsPath: string;
  /** the same entries, hashed by `ssh-keygen -H` */
  hashedKnownHostsPath: string;
  /** an unencrypted key every node accepts */
  identityFile: string;
  /** an encrypted key every node accepts; its passphrase is `encryptedKeyPassphrase` */
  encryptedIdentityFile: string;
  encryptedKeyPassphrase: string;
  /** SSH_AUTH_SOCK of an agent holding a third accepted key */
  agentSocket: string;
  /** a home directory with no ~/.ssh, so no default identity files are found */
  clientHome: string;
  user: string;
  /**
   * login shell -> a user whose login shell it is, accepting the same keys, with its own home on
   * each node (root only: `{}` for a developer without root). Shells: dash, zsh, fish, tcsh (those installed).
   */
  shellUsers: Record<string, string>;
  nodes: LabNode[];
  bastion: LabNode;
  /** first on PATH for commands run on the nodes (they see $NODE_NAME) */
  shimDir: string;
  /** directory that is the test user's home on `node` (each node has its own) */
  nodeHome(node: string): string;
  /** host pid of the node's listening sshd */
  sshdPid(node: string): Promise<number>;
  stop(): Promise<void>;
}

async function portFree(hosts: string[], port: number): Promise<boolean> {
  for (const host of hosts) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

interface LabJson {
  dir: string;
  user: string;
  port: number;
  asRoot: boolean;
  nodes: LabNode[];
  bastion: LabNode;
  shellUsers?: Record<string, string>;
}

export async function startLab(options: { nodes: number; port?: number } = { nodes: 2 }): Promise<Lab> {
  const hosts = ['127.0.0.1', ...Array.from({ length: options.nodes }, (_, i) => `127.0.0.${i + 2}`)];
  // test files start labs at the same time: each process starts its search at its own port
  let port = options.port ?? 2222 + (process.pid % 200) * 5;
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++, port++) {
    if (!(await portFree(hosts, port))) continue;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-lab-'));
    try {
      await run('bash', [path.join(here, 'start.sh'), String(options.nodes)], { env: { ...process.env, LAB: dir, PORT: String(port) } });
    } catch (err) {
      // another lab may have taken the port between the check and sshd's bind
      lastError = err;
      await run('bash', [path.join(here, 'stop.sh')], { env: { ...process.env, LAB: dir } });
      continue;
    }
    const info = JSON.parse(await readFile(path.join(dir, 'lab.json'), 'utf8')) as LabJson;
    const all = [info.bastion, ...info.nodes];
    const find = (name: string): LabNode => {
      const n = all.find((x) => x.name === name);
      if (!n) throw new Error(`no lab node ${name}`);
      return n;
    };
    let stopped = false;
    return {
      dir,
      sshConfigPath: path.join(dir, 'ssh_config'),
      knownHostsPath: path.join(dir, 'known_hosts'),
      hashedKnownHostsPath: path.join(dir, 'known_hosts.hashed'),
      identityFile: path.join(dir, 'client_key'),
      encryptedIdentityFile: path.join(dir, 'client_key_encrypted'),
      encryptedKeyPassphrase: 'lab passphrase',
      agentSocket: path.join(dir, 'agent.sock'),
      clientHome: path.join(dir, 'client_home'),
      user: info.user,
      shellUsers: info.shellUsers ?? {},
      nodes: info.nodes,
      bastion: info.bastion,
      shimDir: path.join(dir, 'shim'),
      nodeHome: (node) => path.join(dir, 'nodes', find(node).name, 'home'),
      sshdPid: async (node) => {
        // without root there is no namespace launcher: the launcher is sshd itself
        if (!info.asRoot) return find(node).launcherPid;
        const { stdout } = await run('pgrep', ['-P', String(find(node).launcherPid)]);
        return Number(stdout.trim().split('\n')[0]);
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await run('bash', [path.join(here, 'stop.sh')], { env: { ...process.env, LAB: dir } });
      },
    };
  }
  throw new Error(`could not start the sshd lab: ${String(lastError)}`);
}
