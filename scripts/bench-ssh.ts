/**
 * How long does one command take on 8 nodes vs on 1 node? Runs against the loopback sshd lab
 * (test/lab), so it measures the client's overhead and parallelism, not a network.
 *   node --import tsx scripts/bench-ssh.ts [rounds]
 * Prints cold (connect + auth + exec) and warm (exec on an open connection) medians, direct and
 * through a ProxyJump bastion, and the 8-node / 1-node ratios (target: warm <= 1.3).
 *
 * Next to them, measured in the same run on the same nodes:
 * - where the time goes: the CPU one fan-out costs in this process (ssh2: crypto, channel
 *   bookkeeping, JSON-free) and in the nodes' sshd process trees (session fork, login shell, the
 *   exec wrapper, the command), from /proc; all of it shares this machine's cores, so
 *   (client + server CPU) / cores is a floor under the 8-node wall time whatever the client does;
 * - the ceiling: OpenSSH's own fan-out (one `ssh` per node over a ControlMaster connection each,
 *   all started at once), with the same wrapped command and with a bare `uname -n`.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { headlessHost } from '../src/core/host';
import { buildExecCommand } from '../src/core/launch/shell/remote-command';
import { createSshCluster, type SshCluster } from '../src/core/launch/ssh/ssh-cluster';
import { startLab, type Lab } from '../test/lab/lab';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 15);
const ARGV = ['uname', '-n'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function cluster(lab: Lab, nodes: string[]): Promise<SshCluster> {
  return createSshCluster({ name: 'bench', gpusPerNode: 8, nodes, sshConfigPath: lab.sshConfigPath }, headlessHost(), { agentSocket: null, homeDir: lab.clientHome });
}

async function onAll(c: SshCluster): Promise<number> {
  const t = performance.now();
  const results = await Promise.all(c.nodes.map((n) => c.exec(n.name, ARGV)));
  const ms = performance.now() - t;
  if (results.some((r) => r.exitCode !== 0)) throw new Error('a command failed');
  return ms;
}

// ---- CPU accounting from /proc (Linux; clock ticks of 10 ms, so only sums over many runs mean much)
const TICK_MS = 10;

function parentOf(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** the pids of these processes and all their descendants */
function trees(roots: number[]): number[] {
  const children = parentOf();
  const out: number[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** user + system CPU of the processes and of their reaped children, ms */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * TICK_MS;
}

interface Measured {
  coldMs: number;
  warmMs: number;
  /** CPU per warm fan-out: this process, and the nodes' sshd trees */
  clientCpuMs: number;
  serverCpuMs: number;
}

async function measure(lab: Lab, nodes: string[], sshdPids: number[]): Promise<Measured> {
  const cold: number[] = [];
  const warm: number[] = [];
  let clientCpu = 0;
  let serverCpu = 0;
  let warmRuns = 0;
  for (let i = 0; i < rounds; i++) {
    const c = await cluster(lab, nodes);
    try {
      cold.push(await onAll(c));
      for (let k = 0; k < 2; k++) {
        const pids = trees(sshdPids);
        const server0 = cpuMs(pids);
        const client0 = process.cpuUsage();
        warm.push(await onAll(c));
        const client = process.cpuUsage(client0);
        clientCpu += (client.user + client.system) / 1000;
        serverCpu += cpuMs(pids) - server0;
        warmRuns++;
      }
    } finally {
      await c.dispose();
    }
  }
  return { coldMs: median(cold), warmMs: median(warm), clientCpuMs: clientCpu / warmRuns, serverCpuMs: serverCpu / warmRuns };
}

/** OpenSSH: one ControlMaster per node, then `ssh <node> <command>` on all of them at once */
async function openSshFanout(lab: Lab, nodes: string[], command: string): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-cm-'));
  const opts = (node: string) => ['-F', lab.sshConfigPath, '-o', `ControlPath=${dir}/${node}`, '-o', 'BatchMode=yes'];
  const masters = nodes.map((n) => spawn('ssh', [...opts(n), '-o', 'ControlMaster=yes', '-N', n], { stdio: 'ignore', env: { ...process.env, HOME: lab.clientHome, SSH_AUTH_SOCK: '' } }));
  try {
    // ready when the control socket answers
    for (const n of nodes) {
      for (let i = 0; ; i++) {
        const ok = await run('ssh', [...opts(n), '-O', 'check', n], { env: { ...process.env, HOME: lab.clientHome } }).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (i > 100) throw new Error(`OpenSSH master to ${n} did not come up`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const once = async (): Promise<number> => {
      const t = performance.now();
      await Promise.all(nodes.map((n) => run('ssh', [...opts(n), '-o', 'ControlMaster=no', n, command], { env: { ...process.env, HOME: lab.clientHome } })));
      return performance.now() - t;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < rounds * 2; i++) times.push(await once());
    return median(times);
  } finally {
    for (const m of masters) m.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const lab = await startLab({ nodes: 8 });
  try {
    const names = Array.from({ length: 8 }, (_, i) => `node${i + 1}`);
    const sshdPids = await Promise.all(lab.nodes.map((n) => lab.sshdPid(n.name)));
    const cores = os.cpus().length;
    console.log(`bench-ssh: one command (uname -n) on 8 nodes vs 1 node, median of ${rounds} rounds, loopback sshd lab; ${cores} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    let direct: { one: Measured; eight: Measured } | undefined;
    for (const prefix of ['node', 'jump-node']) {
      const one = await measure(lab, [`${prefix}1`], sshdPids);
      const eight = await measure(lab, Array.from({ length: 8 }, (_, i) => `${prefix}${i + 1}`), sshdPids);
      if (prefix === 'node') direct = { one, eight };
      const label = prefix === 'node' ? 'direct' : 'via bastion';
      console.log(`${label.padEnd(12)} cold: 1 node ${one.coldMs.toFixed(1)} ms, 8 nodes ${eight.coldMs.toFixed(1)} ms, ratio ${(eight.coldMs / one.coldMs).toFixed(2)}`);
      console.log(`${label.padEnd(12)} warm: 1 node ${one.warmMs.toFixed(1)} ms, 8 nodes ${eight.warmMs.toFixed(1)} ms, ratio ${(eight.warmMs / one.warmMs).toFixed(2)} (target <= 1.3)`);
    }
    if (direct) {
      const { one, eight } = direct;
      const cpu8 = eight.clientCpuMs + eight.serverCpuMs;
      // the 8 nodes cannot finish before one node does, nor before their CPU is done on these cores
      const floorMs = Math.max(one.warmMs, cpu8 / cores);
      console.log(
        `where a warm fan-out's time goes (direct): CPU per fan-out, this process ${one.clientCpuMs.toFixed(1)} ms (1 node) / ${eight.clientCpuMs.toFixed(1)} ms (8 nodes), ` +
          `nodes' sshd trees ${one.serverCpuMs.toFixed(1)} / ${eight.serverCpuMs.toFixed(1)} ms (${(eight.serverCpuMs / 8).toFixed(1)} ms a node: session fork, login shell, setsid + bash wrapper, uname)`,
      );
      console.log(
        `  8 nodes need ${cpu8.toFixed(0)} ms of CPU on ${cores} cores shared by client and nodes: on an otherwise idle machine the wall time cannot go below ${floorMs.toFixed(1)} ms, ` +
          `a ratio of ${(floorMs / one.warmMs).toFixed(2)} (measured ${(eight.warmMs / one.warmMs).toFixed(2)}); during the 8-node fan-out these processes got ${(cpu8 / eight.warmMs).toFixed(2)} of the ${cores} cores ` +
          `(the rest went to other work on the machine: load average ${os.loadavg()[0].toFixed(1)})`,
      );
    }
    const wrapped = buildExecCommand({ argv: ARGV });
    const cm1 = await openSshFanout(lab, names.slice(0, 1), wrapped);
    const cm8 = await openSshFanout(lab, names, wrapped);
    const bare1 = await openSshFanout(lab, names.slice(0, 1), ARGV.join(' '));
    const bare8 = await openSshFanout(lab, names, ARGV.join(' '));
    console.log(`ceiling, OpenSSH ControlMaster fan-out (one ssh process per node, warm masters): same wrapped command 1 node ${cm1.toFixed(1)} ms, 8 nodes ${cm8.toFixed(1)} ms, ratio ${(cm8 / cm1).toFixed(2)}; bare uname -n ${bare1.toFixed(1)} / ${bare8.toFixed(1)} ms, ratio ${(bare8 / bare1).toFixed(2)}`);
  } finally {
    await lab.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
