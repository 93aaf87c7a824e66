import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerShape } from '../shape';
import { gpusPerNode } from '../shape';
import type { MemoryPlan } from '../engine/memory';
import { H200 } from '../engine/perf-model';
import { SimIbCounters, simIbRoot } from '../deep/ib-sysfs';

/**
 * Emulated GPU state of one server process, written as JSON under
 * `<stateDir>/<nodeName>/gpu-<pid>-<port>.json` for the fake nvidia-smi to read. The file names
 * the process (pid) so a dead server's GPUs read idle and free, as after a real crash.
 */
export interface GpuProcessState {
  pid: number;
  processName: string;
  updatedAtMs: number;
  gpus: GpuState[];
}

export interface GpuState {
  index: number;
  /** 0..100 */
  utilPct: number;
  memUtilPct: number;
  /** memory this process holds on the GPU */
  processMemMiB: number;
  /** 0..1 load used for power, clocks, temperature */
  load: number;
}

export interface TelemetryOptions {
  stateDir: string;
  nodeName: string;
  gpuIndices?: number[];
  intervalMs?: number;
}

export interface LoadProbe {
  active: number;
  busyMs: number;
  zeroCost: boolean;
  kvUsedFraction: number;
}

export class GpuTelemetry {
  private timer: NodeJS.Timeout | null = null;
  private lastBusyMs = 0;
  private lastAtMs = performance.now();
  private readonly file: string;
  private readonly indices: number[];
  private writing: Promise<void> = Promise.resolve();
  private readonly startedAtMs = performance.now();
  /** issue 11 hook: the node's fake InfiniBand counters advance with this process's load */
  private readonly ib: SimIbCounters;

  constructor(
    private readonly o: TelemetryOptions,
    private readonly shape: ServerShape,
    private readonly memory: MemoryPlan,
    private readonly probe: () => LoadProbe,
  ) {
    const n = gpusPerNode(shape);
    this.indices = o.gpuIndices ?? Array.from({ length: n }, (_, i) => shape.baseGpuId + i);
    this.file = join(o.stateDir, o.nodeName, `gpu-${process.pid}-${shape.port}.json`);
    this.ib = new SimIbCounters(simIbRoot(o.stateDir, o.nodeName), this.indices, { role: shape.role, epSize: shape.epSize, nnodes: shape.nnodes, gpusOnNode: n });
  }

  /** busy fraction since the last sample: model busy time over wall time */
  private busyFraction(): number {
    const p = this.probe();
    const now = performance.now();
    const dt = now - this.lastAtMs;
    let f: number;
    if (p.zeroCost) f = p.active > 0 ? 1 : 0;
    else f = dt > 0 ? (p.busyMs - this.lastBusyMs) / dt : 0;
    this.lastBusyMs = p.busyMs;
    this.lastAtMs = now;
    return Math.max(0, Math.min(1, f));
  }

  sample(): GpuProcessState {
    const busy = this.busyFraction();
    const kv = this.probe().kvUsedFraction;
    // weights and the static KV pool are allocated at start-up (SGLang preallocates the pool);
    // activations grow a little with load
    const warm = Math.min(1, (performance.now() - this.startedAtMs) / 2000);
    const baseMiB = (this.memory.weightsMiB + this.memory.kvPoolMiB) * warm + 1500;
    const memMiB = Math.round(Math.min(this.memory.gpuTotalMiB - 600, baseMiB + busy * 1200 + kv * 300));
    return {
      pid: process.pid,
      processName: 'python3',
      updatedAtMs: Date.now(),
      gpus: this.indices.map((index) => ({ index, utilPct: Math.round(busy * 100), memUtilPct: Math.round(busy * (18 + 10 * kv)), processMemMiB: memMiB, load: busy })),
    };
  }

  start(): void {
    const interval = this.o.intervalMs ?? 200;
    const tick = (): void => {
      const state = this.sample();
      const busy = state.gpus[0]?.load ?? 0;
      this.writing = this.writing.then(() => this.write(state)).then(() => this.ib.advance(busy)).catch(() => undefined);
    };
    tick();
    this.timer = setInterval(tick, interval);
    this.timer.unref();
  }

  private async write(state: GpuProcessState): Promise<void> {
    const dir = join(this.o.stateDir, this.o.nodeName);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(state));
    await rename(tmp, this.file);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
    await rm(this.file, { force: true });
  }
}

export { H200 };
