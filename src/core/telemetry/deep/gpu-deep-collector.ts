import { setMaxListeners } from 'node:events';
import type { Cluster } from '../../launch/types';
import type { Disposable } from '../../util/disposable';
import type { TelemetryNotice } from '../notice';
import type { GpuDeepReading, GpuDeepSample } from '../schema';
import { dcgmDmonArgv, dcgmUnavailableReason, DCGM_FIELD_IDS } from './dcgm/fields';
import { DcgmDmonParser } from './dcgm/parse';
import { DmonPcieParser, dmonPcieArgv, type PcieRow } from './nvsmi/dmon-pcie';
import { nvlinkLoopArgv, nvlinkRates, parseNvlinkCounters, TICK_MARK, tickNodeMs, type NvlinkCounters } from './nvsmi/nvlink-counters';
import { lastLine, runStreamLoop } from '../stream-loop';
import { TickAssembler } from './tick';

export interface GpuDeepCollectorOptions {
  cluster: Cluster;
  nodes: readonly string[];
  intervalMs: number;
  onSample: (sample: GpuDeepSample) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  /** skip DCGM (e.g. a site where profiling counters are reserved for another tool) */
  dcgm?: boolean;
  /** every byte the remote commands print (for the overhead figures) */
  onBytes?: (node: string, n: number) => void;
  restartDelayMs?: number;
  now?: () => number;
}

/** Which source each node ended up on (shown in the run's notes). */
export type DeepSource = 'dcgm' | 'nvidia-smi' | 'none';

/**
 * Per node: one long-lived `dcgmi dmon` stream (SM active/occupancy, tensor, DRAM, PCIe and
 * NVLink bytes per GPU). When DCGM is missing or refuses profiling fields, says so once
 * ("DCGM not available on nodeX, using nvidia-smi") and falls back to two long-lived
 * nvidia-smi streams: NVLink data counters (a shell loop, rates from counter deltas) and
 * `dmon -s t` PCIe throughput. Owns its commands; dispose aborts them.
 */
export class GpuDeepCollector implements Disposable {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly sources = new Map<string, DeepSource>();
  private readonly now: () => number;

  constructor(private readonly o: GpuDeepCollectorOptions) {
    this.now = o.now ?? Date.now;
    setMaxListeners(6 * o.nodes.length + 10, this.abort.signal);
  }

  start(): void {
    if (this.loops.length > 0 || this.abort.signal.aborted) return;
    for (const node of this.o.nodes) this.loops.push(this.runNode(node));
  }

  source(node: string): DeepSource | undefined {
    return this.sources.get(node);
  }

  async dispose(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private notice(n: TelemetryNotice): void {
    this.o.onNotice?.(n);
  }

  private async runNode(node: string): Promise<void> {
    if (this.o.dcgm !== false) {
      const usable = await this.runDcgm(node);
      if (usable || this.abort.signal.aborted) return;
    }
    this.sources.set(node, 'nvidia-smi');
    await Promise.all([this.runNvlink(node), this.runPcie(node)]);
  }

  /** resolves true when DCGM delivered readings (and ran until disposed), false to fall back */
  private async runDcgm(node: string): Promise<boolean> {
    const parser = new DcgmDmonParser(DCGM_FIELD_IDS);
    let readings = 0;
    const problems: string[] = [];
    let fellBack = false;
    const ticks = new TickAssembler<GpuDeepReading>((gpus, tsMs) => this.o.onSample({ kind: 'gpu-deep', tsMs, node, source: 'dcgm', gpus }), this.now);
    await runStreamLoop({
      cluster: this.o.cluster,
      node,
      argv: dcgmDmonArgv(this.o.intervalMs),
      signal: this.abort.signal,
      restartDelayMs: this.o.restartDelayMs,
      onBytes: (n) => this.o.onBytes?.(node, n),
      onLine: (line) => {
        const r = parser.parseLine(line);
        if (r.type === 'reading') {
          if (readings++ === 0) this.sources.set(node, 'dcgm');
          ticks.push(r.reading);
        } else if (r.type === 'problem' && problems.length < 20) problems.push(r.text);
      },
      onEnd: (end) => {
        ticks.flush();
        const said = `${end.said}\n${problems.join('\n')}`;
        const reason = dcgmUnavailableReason(said, end.exitCode) ?? (readings === 0 ? lastLine(said) || `dcgmi exited with ${end.exitCode ?? 'a signal'}` : undefined);
        if (readings === 0 && reason) {
          fellBack = true;
          this.notice({ node, level: 'info', message: `DCGM not available on ${node} (${reason}), using nvidia-smi` });
          return 'stop';
        }
        this.notice({ node, level: 'warn', message: `dcgmi dmon on ${node} stopped${lastLine(said) ? `: ${lastLine(said)}` : ''}; restarting` });
        problems.length = 0;
        return 'restart';
      },
    });
    return !fellBack;
  }

  private async runNvlink(node: string): Promise<void> {
    let text: string[] = [];
    let tickMs: number | undefined;
    let prev: { counters: NvlinkCounters; atMs: number } | undefined;
    let samples = 0;
    const finish = (): void => {
      if (tickMs === undefined) return;
      const counters = parseNvlinkCounters(text.join('\n'));
      text = [];
      const atMs = tickMs;
      tickMs = undefined;
      if (counters.gpus.size === 0) return;
      if (prev) {
        const rates = nvlinkRates(prev.counters, counters, (atMs - prev.atMs) / 1000);
        const gpus = [...rates].sort((a, b) => a[0] - b[0]).map(([index, r]) => ({ index, nvlinkTxGBps: r.txGBps, nvlinkRxGBps: r.rxGBps }));
        if (gpus.length > 0) {
          samples++;
          this.o.onSample({ kind: 'gpu-deep', tsMs: this.now(), node, source: 'nvidia-smi', gpus });
        }
      }
      prev = { counters, atMs };
    };
    await runStreamLoop({
      cluster: this.o.cluster,
      node,
      argv: nvlinkLoopArgv(this.o.intervalMs),
      signal: this.abort.signal,
      restartDelayMs: this.o.restartDelayMs,
      onBytes: (n) => this.o.onBytes?.(node, n),
      onLine: (line) => {
        if (line.startsWith(TICK_MARK)) {
          finish();
          tickMs = tickNodeMs(line) ?? this.now();
          return;
        }
        if (tickMs !== undefined) text.push(line);
      },
      onEnd: (end) => {
        finish();
        prev = undefined;
        if (samples === 0) {
          this.notice({ node, level: 'info', message: `NVLink counters not available on ${node}${lastLine(end.said) ? ` (${lastLine(end.said)})` : ''}; no NVLink bandwidth from this node` });
          return 'stop';
        }
        return 'restart';
      },
    });
  }

  private async runPcie(node: string): Promise<void> {
    const parser = new DmonPcieParser();
    let rows = 0;
    const ticks = new TickAssembler<PcieRow>((list, tsMs) => {
      const gpus: GpuDeepReading[] = list.map((r) => ({ index: r.index, pcieRxGBps: r.rxGBps, pcieTxGBps: r.txGBps }));
      this.o.onSample({ kind: 'gpu-deep', tsMs, node, source: 'nvidia-smi', gpus });
    }, this.now);
    await runStreamLoop({
      cluster: this.o.cluster,
      node,
      argv: dmonPcieArgv(this.o.intervalMs),
      signal: this.abort.signal,
      restartDelayMs: this.o.restartDelayMs,
      onBytes: (n) => this.o.onBytes?.(node, n),
      onLine: (line) => {
        const r = parser.parseLine(line);
        if (r && r !== 'header') {
          rows++;
          ticks.push(r);
        }
      },
      onEnd: (end) => {
        ticks.flush();
        if (rows === 0) {
          this.notice({ node, level: 'info', message: `nvidia-smi dmon PCIe throughput not available on ${node}${lastLine(end.said) ? ` (${lastLine(end.said)})` : ''}` });
          return 'stop';
        }
        return 'restart';
      },
    });
  }
}
