import { setMaxListeners } from 'node:events';
import type { Cluster } from '../../../launch/types';
import type { Disposable } from '../../../util/disposable';
import { readGpuTopology } from '../../gpu/node-queries';
import type { TelemetryNotice } from '../../notice';
import type { NicReading, NicSample } from '../../schema';
import { secondsArg, tickNodeMs } from '../nvsmi/nvlink-counters';
import { lastLine, runStreamLoop } from '../../stream-loop';
import { IB_NONE_MARK, ibLoopArgv, parseCounterLine, portRates, type PortCounters } from './counters';
import { nicGpuMap } from './nic-map';

export interface NicCollectorOptions {
  cluster: Cluster;
  nodes: readonly string[];
  intervalMs: number;
  onSample: (sample: NicSample) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  /** map NICs to GPUs from `nvidia-smi topo -m` (default true) */
  topology?: boolean;
  onBytes?: (node: string, n: number) => void;
  restartDelayMs?: number;
  now?: () => number;
}

/**
 * Per node: one long-lived shell loop reading every IB/RoCE port's data counters each interval
 * (see counters.ts), turned into Gbit/s per NIC and per node, each NIC labelled with the GPUs
 * nearest to it. A node without ports gets one notice and no further commands.
 */
export class NicCollector implements Disposable {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly o: NicCollectorOptions) {
    this.now = o.now ?? Date.now;
    setMaxListeners(3 * o.nodes.length + 10, this.abort.signal);
  }

  start(): void {
    if (this.loops.length > 0 || this.abort.signal.aborted) return;
    for (const node of this.o.nodes) this.loops.push(this.runNode(node));
  }

  async dispose(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async nicMap(node: string): Promise<Map<string, string[]>> {
    if (this.o.topology === false) return new Map();
    try {
      return nicGpuMap(await readGpuTopology(this.o.cluster, node, this.abort.signal));
    } catch {
      // no nvidia-smi or no NICs in the matrix: NICs are shown without GPUs
      return new Map();
    }
  }

  private async runNode(node: string): Promise<void> {
    const map = await this.nicMap(node);
    let current: PortCounters[] | undefined;
    let currentMs = 0;
    let prev: { ports: PortCounters[]; atMs: number } | undefined;
    let none = false;
    let samples = 0;
    const finish = (): void => {
      if (!current) return;
      const ports = current;
      const atMs = currentMs;
      current = undefined;
      if (prev) {
        const dtSec = (atMs - prev.atMs) / 1000;
        const rates = portRates(prev.ports, ports, dtSec);
        if (rates.length > 0) {
          const nics: NicReading[] = rates.map((r) => {
            const reading: NicReading = { device: r.device, port: r.port, txGbps: r.txGbps, rxGbps: r.rxGbps };
            const gpus = map.get(r.device);
            if (gpus) reading.gpus = gpus;
            if (r.saturated) reading.saturated = true;
            return reading;
          });
          samples++;
          this.o.onSample({
            kind: 'nic',
            tsMs: this.now(),
            node,
            intervalSec: dtSec,
            nics,
            txGbps: nics.reduce((s, n) => s + n.txGbps, 0),
            rxGbps: nics.reduce((s, n) => s + n.rxGbps, 0),
          });
        }
      }
      prev = { ports, atMs };
    };
    await runStreamLoop({
      cluster: this.o.cluster,
      node,
      argv: ibLoopArgv(secondsArg(this.o.intervalMs)),
      signal: this.abort.signal,
      restartDelayMs: this.o.restartDelayMs,
      onBytes: (n) => this.o.onBytes?.(node, n),
      onLine: (line) => {
        if (line.startsWith('@moebench-tick')) {
          finish();
          current = [];
          currentMs = tickNodeMs(line) ?? this.now();
        } else if (line.startsWith(IB_NONE_MARK)) {
          none = true;
        } else if (current) {
          const c = parseCounterLine(line);
          if (c) current.push(c);
        }
      },
      onEnd: (end) => {
        finish();
        prev = undefined;
        if (none) {
          this.notice({ node, level: 'info', message: `no InfiniBand/RoCE ports on ${node}; no NIC bandwidth from this node` });
          return 'stop';
        }
        if (samples === 0) {
          this.notice({ node, level: 'warn', message: `cannot read InfiniBand counters on ${node}${lastLine(end.said) ? `: ${lastLine(end.said)}` : ''}` });
          return 'stop';
        }
        return 'restart';
      },
    });
  }

  private notice(n: TelemetryNotice): void {
    this.o.onNotice?.(n);
  }
}
