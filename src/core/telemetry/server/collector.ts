import { setMaxListeners } from 'node:events';
import type { Disposable } from '../../util/disposable';
import type { TelemetryNotice } from '../notice';
import type { ServerSample } from '../schema';
import { compareStates, parseServerMetrics, reduceScrape, type ServerState } from './normalize';
import { sleep } from '../../util/timing';
import { KeepAliveGetter, type GetText } from './http-get';

export interface MetricsEndpoint {
  /** deployment/role name shown in charts ("decode-0") */
  name: string;
  /** server base URL (`/metrics` is appended) or the full metrics URL */
  url: string;
}

export interface ServerMetricsCollectorOptions {
  endpoints: readonly MetricsEndpoint[];
  intervalMs: number;
  /**
   * Rates and percentiles cover this many seconds back (a rolling window over kept scrapes);
   * 0 = since the previous scrape.
   */
  windowSec?: number;
  onSample: (sample: ServerSample) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  timeoutMs?: number;
  /** GET implementation (tests); default: a keep-alive node:http getter owned by the collector */
  getText?: GetText;
  now?: () => number;
}

export function metricsUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /\/metrics$/.test(u) ? u : `${u}/metrics`;
}

/**
 * Scrapes each server's /metrics on its own timer (never overlapping itself: the next scrape is
 * scheduled when one finishes) and emits normalized samples. Through SSH clusters the URL is the
 * local end of the forward from `cluster.httpEndpoint`. Owns its timers and requests.
 */
export class ServerMetricsCollector implements Disposable {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly history = new Map<string, ServerState[]>();
  private readonly latestSample = new Map<string, ServerSample>();
  private started = false;
  private readonly getter = new KeepAliveGetter();

  constructor(private readonly opts: ServerMetricsCollectorOptions) {
    // every endpoint loop waits on this one signal (a sleep and a request each): not a leak
    setMaxListeners(2 * opts.endpoints.length + 10, this.abort.signal);
  }

  start(): void {
    if (this.started || this.abort.signal.aborted) return;
    this.started = true;
    for (const ep of this.opts.endpoints) this.loops.push(this.runEndpoint(ep));
  }

  /** newest reduced scrape of an endpoint: keep it at a phase start, compare at its end */
  latestState(endpoint: string): ServerState | undefined {
    const h = this.history.get(endpoint);
    return h?.[h.length - 1];
  }

  latest(endpoint: string): ServerSample | undefined {
    return this.latestSample.get(endpoint);
  }

  async dispose(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    this.getter.dispose();
  }

  /** One scrape now (also used by the monitor's first paint). */
  async scrapeOnce(ep: MetricsEndpoint): Promise<ServerState> {
    const get = this.opts.getText ?? this.getter.get;
    const timeoutMs = this.opts.timeoutMs ?? Math.max(2000, this.opts.intervalMs * 2);
    const { status, body } = await get(metricsUrl(ep.url), { signal: this.abort.signal, timeoutMs });
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status}${body ? `: ${body.trim().slice(0, 200)}` : ''}`);
    const now = (this.opts.now ?? Date.now)();
    return reduceScrape(parseServerMetrics(body), now);
  }

  private baselineFor(history: ServerState[], current: ServerState): ServerState | undefined {
    const windowMs = (this.opts.windowSec ?? 0) * 1000;
    if (history.length === 0) return undefined;
    if (windowMs <= 0) return history[history.length - 1];
    const from = current.tsMs - windowMs;
    return history.find((s) => s.tsMs >= from) ?? history[history.length - 1];
  }

  private record(ep: MetricsEndpoint, state: ServerState): void {
    let history = this.history.get(ep.name);
    if (!history) this.history.set(ep.name, (history = []));
    const sample = compareStates(this.baselineFor(history, state), state, ep.name);
    history.push(state);
    // keep just enough for the window (plus the newest); a 1 Hz, 10 s window keeps 11 states
    const windowMs = (this.opts.windowSec ?? 0) * 1000;
    while (history.length > 1 && history[0].tsMs < state.tsMs - windowMs) history.shift();
    this.latestSample.set(ep.name, sample);
    this.opts.onSample(sample);
  }

  private async runEndpoint(ep: MetricsEndpoint): Promise<void> {
    const signal = this.abort.signal;
    let failing = false;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        const state = await this.scrapeOnce(ep);
        if (signal.aborted) return;
        if (failing) this.opts.onNotice?.({ endpoint: ep.name, level: 'info', message: `metrics from ${ep.name} are back` });
        failing = false;
        this.record(ep, state);
      } catch (err) {
        if (signal.aborted) return;
        // one notice per failure streak, not one per second
        if (!failing) {
          const why = err instanceof Error ? err.message : String(err);
          this.opts.onNotice?.({
            endpoint: ep.name,
            level: 'warn',
            message: `cannot read ${metricsUrl(ep.url)} (${why}); is the server started with --enable-metrics? Retrying every ${this.opts.intervalMs} ms`,
          });
        }
        failing = true;
      }
      await sleep(Math.max(0, this.opts.intervalMs - (Date.now() - started)), signal);
    }
  }
}
