import { setMaxListeners } from 'node:events';
import type { Cluster, ExecResult } from '../../launch/types';
import type { Disposable } from '../../util/disposable';
import { isAbortError } from '../../util/errors';
import type { TelemetryNotice } from '../notice';
import type { GpuSample } from '../schema';
import { gpuStreamArgv, invalidFieldsIn } from './commands';
import { DEFAULT_STREAM_FIELDS } from './fields';
import { GpuStreamAssembler } from './stream';
import { sleep } from '../sleep';

export interface GpuCollectorOptions {
  cluster: Cluster;
  nodes: readonly string[];
  intervalMs: number;
  fields?: readonly string[];
  onSample: (sample: GpuSample) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  /** first restart delay after nvidia-smi dies; doubles up to maxRestartDelayMs */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  now?: () => number;
}

const STDERR_KEEP_CHARS = 4096;

/**
 * One long-lived `nvidia-smi --query-gpu ... -lms N` per node, streamed through `cluster.exec`.
 * Owns those commands: `dispose()` aborts them all (the cluster kills the remote process group)
 * and resolves when every stream has ended. A stream that dies is restarted with backoff; a
 * field the driver refuses is dropped and the stream restarted without it.
 */
export type { TelemetryNotice };

export class GpuCollector implements Disposable {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly latestByNode = new Map<string, GpuSample>();
  private started = false;

  constructor(private readonly opts: GpuCollectorOptions) {
    // every node's stream and restart timer waits on this one signal: not a leak
    setMaxListeners(3 * opts.nodes.length + 10, this.abort.signal);
  }

  start(): void {
    if (this.started || this.abort.signal.aborted) return;
    this.started = true;
    for (const node of this.opts.nodes) this.loops.push(this.runNode(node));
  }

  /** the newest tick of a node (cluster tree, first paint of a monitor) */
  latest(node: string): GpuSample | undefined {
    return this.latestByNode.get(node);
  }

  async dispose(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private notice(n: TelemetryNotice): void {
    this.opts.onNotice?.(n);
  }

  private async runNode(node: string): Promise<void> {
    const signal = this.abort.signal;
    const initialDelay = this.opts.restartDelayMs ?? 1000;
    const maxDelay = this.opts.maxRestartDelayMs ?? 30_000;
    let delay = initialDelay;
    let fields = [...(this.opts.fields ?? DEFAULT_STREAM_FIELDS)];
    if (!fields.includes('index')) fields.unshift('index');
    while (!signal.aborted) {
      let stderr = '';
      const problems: string[] = [];
      let sawSample = false;
      const assembler = new GpuStreamAssembler({
        node,
        fields,
        now: this.opts.now,
        onSample: (s) => {
          sawSample = true;
          this.latestByNode.set(node, s);
          this.opts.onSample(s);
        },
        onProblem: (text) => {
          if (problems.length < 20) problems.push(text);
        },
      });
      let result: ExecResult | undefined;
      let failure: unknown;
      try {
        result = await this.opts.cluster.exec(node, gpuStreamArgv(fields, this.opts.intervalMs), {
          signal,
          captureLimitBytes: STDERR_KEEP_CHARS,
          onStdout: (chunk) => assembler.push(chunk),
          onStderr: (chunk) => {
            if (stderr.length < STDERR_KEEP_CHARS) stderr += chunk;
          },
        });
      } catch (err) {
        failure = err;
      }
      assembler.end();
      if (signal.aborted || (failure !== undefined && isAbortError(failure))) return;

      // Streaming clusters report stderr through onStderr; others only in the result.
      const said = `${stderr || result?.stderr || ''}\n${problems.join('\n')}`;
      const invalid = invalidFieldsIn(said);
      const dropped = invalid.filter((f) => fields.includes(f) && f !== 'index');
      if (dropped.length > 0) {
        fields = fields.filter((f) => !dropped.includes(f));
        this.notice({ node, level: 'info', message: `nvidia-smi on ${node} does not know ${dropped.join(', ')}; sampling without ${dropped.length === 1 ? 'it' : 'them'}` });
        continue;
      }
      if (result?.exitCode === 127 || /command not found|No such file/i.test(said)) {
        this.notice({ node, level: 'error', message: `nvidia-smi is not installed on ${node}; no GPU telemetry from this node` });
        return;
      }
      const why = failure instanceof Error ? failure.message : `exit ${result?.exitCode ?? result?.signal ?? '?'}`;
      const detail = (said.trim().split('\n').pop() ?? '').slice(0, 300);
      if (sawSample) delay = initialDelay;
      this.notice({ node, level: 'warn', message: `nvidia-smi on ${node} stopped (${why})${detail ? `: ${detail}` : ''}; restarting in ${Math.round(delay / 100) / 10} s` });
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
