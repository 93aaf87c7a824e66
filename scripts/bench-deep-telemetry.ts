/**
 * Deep-telemetry collection overhead per node (issue 11). Prints figures; asserts nothing.
 *
 *   node --import tsx scripts/bench-deep-telemetry.ts [--seconds 10] [--interval-ms 1000]
 *
 * Each collector runs alone for a few wall seconds on a LocalCluster (this machine plays one
 * node) with the project's real remote commands:
 *   - IB/RoCE: the real sysfs sampling loop over a fake tree of 8 NICs (MOEBENCH_IB_SYSFS_ROOT),
 *     counters advanced by the emulator's SimIbCounters at full load;
 *   - NVLink fallback: the real `nvidia-smi nvlink -gt d` loop, with `nvidia-smi` a shell
 *     script that prints the real H200 capture scaled to 8 GPUs (real nvidia-smi's own CPU
 *     cannot be measured without a GPU: add it on a GPU node);
 *   - DCGM: the emulator's `dcgmi dmon` (a Node process: its CPU is the emulator's, not DCGM's;
 *     only its bytes per second are representative of the real stream at 8 GPUs);
 *   - scheduler logs: a file growing by one 16-rank batch of decode lines per interval, followed.
 * CPU: user+system time of every process the command started (children are reaped by the
 * command's shell, so /proc/self/stat cutime+cstime grows by exactly that after it ends).
 * Bytes: what crossed the exec channel (what SSH would carry, before compression and framing).
 */
import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCluster } from '../src/core/launch/local/local-cluster';
import type { Cluster } from '../src/core/launch/types';
import type { DeepCollectKind } from '../src/core/telemetry/deep/deep-telemetry';
import { startRunTelemetry, type RunTelemetryOptions } from '../src/core/telemetry/run-telemetry';
import { SimIbCounters } from '../src/core/sim/deep/ib-sysfs';
import { decodeBatchLine, schedulerPrefix } from '../src/core/sim/deep/sched-log';
import { writeDeepShims } from '../src/core/sim/deep/shims';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SECONDS = arg('--seconds', 10);
const INTERVAL_MS = arg('--interval-ms', 1000);
const ROOT = path.join(__dirname, '..');

/** children's CPU (ms) reaped so far, from /proc/self/stat fields 16-17 (cutime, cstime) */
function childCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function withEnv(cluster: Cluster, env: Record<string, string>): Cluster {
  return { ...cluster, name: cluster.name, kind: cluster.kind, nodes: cluster.nodes, node: (n) => cluster.node(n), exec: (node, argv, o = {}) => cluster.exec(node, argv, { ...o, env: { ...o.env, ...env } }), httpEndpoint: (n, p) => cluster.httpEndpoint(n, p), connectionState: (n) => cluster.connectionState(n), dispose: () => cluster.dispose() };
}

async function measure(label: string, cluster: Cluster, collect: DeepCollectKind[], extra: Partial<RunTelemetryOptions> = {}): Promise<void> {
  const cpu0 = childCpuMs();
  const t0 = Date.now();
  const tel = await startRunTelemetry({ ...extra, cluster, nodes: ['local'], collect, intervalMs: INTERVAL_MS });
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const run = await tel.stop();
  if (!run.deep) throw new Error('no deep telemetry result');
  const res = run.deep;
  const wallSec = (Date.now() - t0) / 1000;
  const cpuMs = childCpuMs() - cpu0;
  const o = res.overhead[0];
  const samples = res.counts.gpuDeep + res.counts.nic + res.counts.sched;
  console.log(`${label.padEnd(34)} CPU ${(cpuMs / wallSec).toFixed(1).padStart(6)} ms/s (${((cpuMs / wallSec / 1000) * 100).toFixed(2)} % of a core)   ${(o.bytesPerSec / 1024).toFixed(2).padStart(7)} KiB/s   ${samples} records   ${res.notices.map((n) => n.message).join('; ')}`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'moebench-bench-deep-'));
  try {
    console.log(`deep telemetry overhead per node: ${SECONDS} s per collector, ${INTERVAL_MS} ms interval, 8 GPUs / 8 NICs\n`);
    // IB: 8 NICs advanced at full load in the background
    const ibRoot = path.join(work, 'ib');
    const sim = new SimIbCounters(ibRoot, [0, 1, 2, 3, 4, 5, 6, 7], { role: 'decode', epSize: 72, nnodes: 9, gpusOnNode: 8 });
    await sim.advance(1);
    const driver = setInterval(() => void sim.advance(1), 100);
    const local = new LocalCluster('local', 8);
    await measure('IB/RoCE counters (8 NICs)', withEnv(local, { MOEBENCH_IB_SYSFS_ROOT: ibRoot }), ['nic']);
    clearInterval(driver);

    // NVLink fallback: nvidia-smi prints the real capture, doubled to 8 GPUs; dmon one row per GPU per second
    const bin = path.join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const nv = await readFile(path.join(ROOT, 'test/fixtures/deep-telemetry/h200x4/nvlink-gt-d-load2.txt'), 'utf8');
    const nv8 = nv + nv.replace(/^GPU (\d)/gm, (_m, d: string) => `GPU ${Number(d) + 4}`);
    await writeFile(path.join(bin, 'nvlink8.txt'), nv8);
    const smi = `#!/bin/sh
if [ "$1" = nvlink ]; then cat ${JSON.stringify(path.join(bin, 'nvlink8.txt'))}; exit 0; fi
if [ "$1" = dmon ]; then echo "# gpu  rxpci  txpci"; echo "# Idx   MB/s   MB/s"; while :; do for g in 0 1 2 3 4 5 6 7; do echo "    $g     11      5"; done; sleep 1; done; fi
exit 2
`;
    await writeFile(path.join(bin, 'nvidia-smi'), smi);
    await chmod(path.join(bin, 'nvidia-smi'), 0o755);
    const PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    await measure('nvidia-smi fallback (NVLink + dmon)', withEnv(local, { PATH }), ['gpuDeep'], { collect: [], dcgm: false });

    // DCGM: the emulator's dcgmi through a shim, 8 emulated GPUs
    const dcgmBin = path.join(work, 'dcgm-bin');
    await writeDeepShims(dcgmBin, { dcgmiCommand: [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/core/sim/deep/dcgmi-main.ts')] });
    await measure('dcgmi dmon (emulated, 8 GPUs)', withEnv(local, { PATH: `${dcgmBin}:${process.env.PATH ?? ''}`, MOEBENCH_SIM_GPUS: '8' }), ['gpuDeep']);

    // scheduler logs: 16 DP ranks printing one decode line per interval
    const logDir = path.join(work, 'proc');
    await mkdir(logDir, { recursive: true });
    await writeFile(path.join(logDir, 'log'), '');
    // the remote supervisor follows a log while the process in `pid` lives: this one does
    const pgid = execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim();
    await writeFile(path.join(logDir, 'pid'), pgid);
    await writeFile(path.join(logDir, 'boot_id'), await readFile('/proc/sys/kernel/random/boot_id', 'utf8'));
    const shape = { dpSize: 16, tpSize: 16, epSize: 16, enableDpAttention: true };
    const writer = setInterval(() => {
      const lines = Array.from({ length: 16 }, (_, r) => `${schedulerPrefix(shape, r)} ${decodeBatchLine({ runningReqs: 200, usedTokens: 400000, tokenUsage: 0.5, genThroughput: 2500, queueReqs: 3, cudaGraph: true, pd: { preallocatedUsage: 0.05, preallocReqs: 4, transferReqs: 2, retractedReqs: 0 } })}\n`).join('');
      void appendFile(path.join(logDir, 'log'), lines);
    }, INTERVAL_MS);
    const remote = { version: 1 as const, cluster: 'local', node: 'local', deploymentId: 'bench', name: 'decode-0', dir: logDir, pgid: process.pid, startedAt: new Date().toISOString(), argv: ['x'] };
    await measure('scheduler log follow (16 ranks)', local, ['schedLogs'], { collect: [], logProcesses: [{ id: 'decode-0', remote: remote as never }] });
    clearInterval(writer);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

void main();
