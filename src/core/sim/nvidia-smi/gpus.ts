import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashString, mix32 } from '../rng';
import type { GpuProcessState } from '../telemetry/gpu-state';

/** Static facts of an H200 as the real captures show them (test/fixtures/nvidia-smi/h200x2). */
export const H200_FACTS = {
  name: 'NVIDIA H200',
  driverVersion: '580.159.04',
  cudaVersion: '13.0',
  memoryTotalMiB: 143771,
  /** free when nothing is allocated */
  memoryFreeIdleMiB: 143156,
  powerLimitW: 700,
  maxSmClockMHz: 1980,
  memClockMHz: 3201,
  idleSmClockMHz: 345,
  pcieGen: 5,
  pcieWidth: 16,
} as const;

export interface GpuProcess {
  pid: number;
  name: string;
  usedMiB: number;
}

/** Everything nvidia-smi prints about one GPU at one instant. */
export interface GpuSnapshot {
  index: number;
  uuid: string;
  serial: string;
  busId: string;
  pciDevice: string;
  utilPct: number;
  memUtilPct: number;
  memUsedMiB: number;
  memFreeMiB: number;
  tempC: number;
  memTempC: number;
  powerW: number;
  powerAvgW: number;
  smClockMHz: number;
  swPowerCap: boolean;
  processes: GpuProcess[];
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(8, '0').slice(-width);
}

/** A stable, UUID-shaped id for GPU `index` of node `node` */
export function gpuUuid(node: string, index: number): string {
  const a = mix32(hashString(node), index, 1);
  const b = mix32(hashString(node), index, 2);
  const c = mix32(hashString(node), index, 3);
  const d = mix32(hashString(node), index, 4);
  return `GPU-${hex(a, 8)}-${hex(b, 4)}-${hex(b >>> 16, 4)}-${hex(c, 4)}-${hex(c >>> 16, 4)}${hex(d, 8)}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** live server processes of a node (files of dead pids are ignored, like a GPU freed by a crash) */
export function readProcessStates(stateDir: string, node: string): GpuProcessState[] {
  const dir = join(stateDir, node);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: GpuProcessState[] = [];
  for (const n of names) {
    if (!n.startsWith('gpu-') || !n.endsWith('.json')) continue;
    try {
      const s = JSON.parse(readFileSync(join(dir, n), 'utf8')) as GpuProcessState;
      if (typeof s.pid === 'number' && alive(s.pid)) out.push(s);
    } catch {
      // a file being replaced: skip this sample
    }
  }
  return out;
}

/** small deterministic wobble so successive samples differ like real readings */
function wobble(seed: number, amplitude: number): number {
  return ((mix32(seed) / 4294967296) * 2 - 1) * amplitude;
}

export function snapshotGpus(node: string, gpuCount: number, states: GpuProcessState[], nowMs: number): GpuSnapshot[] {
  const f = H200_FACTS;
  const tick = Math.floor(nowMs / 250);
  const out: GpuSnapshot[] = [];
  for (let i = 0; i < gpuCount; i++) {
    const procs: GpuProcess[] = [];
    let util = 0;
    let memUtil = 0;
    let load = 0;
    for (const s of states) {
      for (const g of s.gpus) {
        if (g.index !== i) continue;
        procs.push({ pid: s.pid, name: s.processName, usedMiB: Math.round(g.processMemMiB) });
        util += g.utilPct;
        memUtil += g.memUtilPct;
        load += g.load;
      }
    }
    util = Math.min(100, util);
    load = Math.min(1, load);
    const used = procs.reduce((a, p) => a + p.usedMiB, 0) + (procs.length ? 9 : 0);
    const seed = mix32(hashString(node), i, tick);
    const idlePower = 78 + (i % 4) * 1.5;
    const power = Math.min(f.powerLimitW - 6, idlePower + (procs.length ? 8 : 0) + load * 612 + wobble(seed, 1.5));
    const swPowerCap = load > 0.9;
    // SM clock: parked when no context, boost with a context, throttled under the 700 W cap
    const sm = procs.length === 0 ? f.idleSmClockMHz : load < 0.5 ? f.maxSmClockMHz : Math.round((f.maxSmClockMHz - (load - 0.5) * 2 * 520 + wobble(seed ^ 7, 22)) / 15) * 15;
    out.push({
      index: i,
      uuid: gpuUuid(node, i),
      serial: String(1654124008239 + (hashString(node) % 100000) * 16 + i),
      busId: `00000000:00:${(6 + i).toString(16).toUpperCase().padStart(2, '0')}.0`,
      pciDevice: (6 + i).toString(16).toUpperCase().padStart(2, '0'),
      utilPct: Math.round(util),
      memUtilPct: Math.round(Math.min(100, memUtil)),
      memUsedMiB: used,
      memFreeMiB: Math.max(0, f.memoryFreeIdleMiB - used + (used > 0 ? 1 : 0)),
      tempC: Math.round(39 + i % 3 + load * 22),
      memTempC: Math.round(40 + i % 3 + load * 10),
      powerW: Math.round(power * 100) / 100,
      powerAvgW: Math.round((power * 0.9 + idlePower * 0.1) * 100) / 100,
      smClockMHz: sm,
      swPowerCap,
      processes: procs,
    });
  }
  return out;
}

/** GPUs of the node this process runs on, from the environment the sim cluster sets */
export function currentNodeGpus(env: NodeJS.ProcessEnv, nowMs = Date.now()): { node: string; gpus: GpuSnapshot[] } {
  const node = env.NODE_NAME ?? 'sim-node';
  const count = Number(env.MOEBENCH_SIM_GPUS ?? 8) || 8;
  const states = env.MOEBENCH_SIM_STATE_DIR ? readProcessStates(env.MOEBENCH_SIM_STATE_DIR, node) : [];
  return { node, gpus: snapshotGpus(node, count, states, nowMs) };
}
