import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A fake `/sys/class/infiniband` for an emulated node, driven by the emulated load: one NIC per
 * GPU (rail-optimised nodes: mlx5_<gpu index>, port 1), counters in 4-byte units like the
 * kernel's `port_xmit_data` / `port_rcv_data`. Each server process advances the NICs of the GPUs
 * it owns, so two servers on one node never write the same file.
 *
 * Where: `<MOEBENCH_SIM_STATE_DIR>/<node>/infiniband` — the sampler reads it when
 * MOEBENCH_IB_SYSFS_ROOT points there (the test seam, see telemetry/deep/ib/counters.ts), and
 * falls back to it by itself on emulated nodes.
 */
export function simIbRoot(stateDir: string, node: string): string {
  return join(stateDir, node, 'infiniband');
}

export interface IbTrafficShape {
  role: 'unified' | 'prefill' | 'decode';
  epSize: number;
  nnodes: number;
  gpusOnNode: number;
}

/** ConnectX-7 NDR: 400 Gbit/s = 50 GB/s per port */
export const NIC_PEAK_BYTES_PER_SEC = 50e9;

/**
 * Bytes per second per NIC at a busy fraction: the inter-node share of the expert all-to-all
 * (a token's experts are off-node with probability 1 - gpusOnNode/epSize) plus PD KV hand-off
 * (prefill sends, decode receives). A single-node, non-PD server shows only a trickle.
 */
export function nicBytesPerSec(shape: IbTrafficShape, busy: number): { tx: number; rx: number } {
  const offNode = shape.nnodes > 1 && shape.epSize > shape.gpusOnNode ? 1 - shape.gpusOnNode / shape.epSize : 0;
  const a2a = busy * 0.35 * NIC_PEAK_BYTES_PER_SEC * offNode;
  const kv = busy * 0.08 * NIC_PEAK_BYTES_PER_SEC;
  const trickle = 2e5;
  return {
    tx: a2a + (shape.role === 'prefill' ? kv : 0) + trickle,
    rx: a2a + (shape.role === 'decode' ? kv : 0) + trickle,
  };
}

export class SimIbCounters {
  private readonly words = new Map<number, { tx: bigint; rx: bigint }>();
  private lastMs: number | undefined;
  private loaded = false;

  constructor(
    private readonly root: string,
    private readonly gpuIndices: readonly number[],
    private readonly shape: IbTrafficShape,
  ) {}

  private dir(gpu: number): string {
    return join(this.root, `mlx5_${gpu}`, 'ports', '1', 'counters');
  }

  /** continue from what an earlier process left (counters only go up, as on a real port) */
  private async load(): Promise<void> {
    for (const g of this.gpuIndices) {
      const read = async (f: string): Promise<bigint> => {
        try {
          return BigInt((await readFile(join(this.dir(g), f), 'utf8')).trim() || '0');
        } catch {
          return 0n;
        }
      };
      this.words.set(g, { tx: await read('port_xmit_data'), rx: await read('port_rcv_data') });
    }
    this.loaded = true;
  }

  private chain: Promise<void> = Promise.resolve();

  /** add `busy` (0..1) worth of traffic since the last call and write the files; calls never overlap */
  advance(busy: number, nowMs = Date.now()): Promise<void> {
    const next = this.chain.then(() => this.step(busy, nowMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async step(busy: number, nowMs: number): Promise<void> {
    if (!this.loaded) await this.load();
    const dtSec = this.lastMs === undefined ? 0 : Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
    const rate = nicBytesPerSec(this.shape, Math.max(0, Math.min(1, busy)));
    for (const g of this.gpuIndices) {
      const w = this.words.get(g) ?? { tx: 0n, rx: 0n };
      w.tx += BigInt(Math.round((rate.tx * dtSec) / 4));
      w.rx += BigInt(Math.round((rate.rx * dtSec) / 4));
      this.words.set(g, w);
      const dir = this.dir(g);
      await mkdir(dir, { recursive: true });
      for (const [file, v] of [['port_xmit_data', w.tx], ['port_rcv_data', w.rx]] as const) {
        // sysfs reads are atomic; a rename keeps a reader from seeing a half-written number
        await writeFile(join(dir, `.${file}.tmp`), `${v}\n`);
        await rename(join(dir, `.${file}.tmp`), join(dir, file));
      }
    }
  }
}
