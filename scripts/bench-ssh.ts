/**
 * How long does one command take on 8 nodes vs on 1 node? Runs against the loopback sshd lab
 * (test/lab), so it measures the client's overhead and parallelism, not a network.
 *   node --import tsx scripts/bench-ssh.ts [rounds]
 * Prints cold (connect + auth + exec) and warm (exec on an open connection) medians, direct and
 * through a ProxyJump bastion, and the 8-node / 1-node ratios.
 */
import { headlessHost } from '../src/core/host';
import { createSshCluster, type SshCluster } from '../src/core/launch/ssh/ssh-cluster';
import { startLab, type Lab } from '../test/lab/lab';

const rounds = Number(process.argv[2] ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function cluster(lab: Lab, nodes: string[]): Promise<SshCluster> {
  return createSshCluster({ name: 'bench', gpusPerNode: 8, nodes, sshConfigPath: lab.sshConfigPath }, headlessHost(), { agentSocket: null, homeDir: lab.clientHome });
}

async function onAll(c: SshCluster): Promise<number> {
  const t = performance.now();
  const results = await Promise.all(c.nodes.map((n) => c.exec(n.name, ['uname', '-n'])));
  const ms = performance.now() - t;
  if (results.some((r) => r.exitCode !== 0)) throw new Error('a command failed');
  return ms;
}

async function measure(lab: Lab, nodes: string[]): Promise<{ coldMs: number; warmMs: number }> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c = await cluster(lab, nodes);
    try {
      cold.push(await onAll(c));
      warm.push(await onAll(c));
      warm.push(await onAll(c));
    } finally {
      await c.dispose();
    }
  }
  return { coldMs: median(cold), warmMs: median(warm) };
}

async function main(): Promise<void> {
  const lab = await startLab({ nodes: 8 });
  try {
    const rows: string[] = [];
    for (const prefix of ['node', 'jump-node']) {
      const one = await measure(lab, [`${prefix}1`]);
      const eight = await measure(lab, Array.from({ length: 8 }, (_, i) => `${prefix}${i + 1}`));
      const label = prefix === 'node' ? 'direct' : 'via bastion';
      rows.push(
        `${label.padEnd(12)} cold: 1 node ${one.coldMs.toFixed(1)} ms, 8 nodes ${eight.coldMs.toFixed(1)} ms, ratio ${(eight.coldMs / one.coldMs).toFixed(2)}`,
        `${label.padEnd(12)} warm: 1 node ${one.warmMs.toFixed(1)} ms, 8 nodes ${eight.warmMs.toFixed(1)} ms, ratio ${(eight.warmMs / one.warmMs).toFixed(2)}`,
      );
    }
    console.log(`bench-ssh: one command (uname -n) on 8 nodes vs 1 node, median of ${rounds} rounds, loopback sshd lab`);
    for (const r of rows) console.log(r);
  } finally {
    await lab.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
