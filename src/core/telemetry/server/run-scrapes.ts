import type { PromScrape } from './prometheus';
import { KeepAliveGetter } from './http-get';
import { metricsUrl, type MetricsEndpoint } from './collector';
import { parseForFamilies } from './family-window';

/** one server's scrapes around a run: what the TTFT decomposition and the run's panels read */
export interface ServerWindow {
  endpoint: string;
  /** undefined: the run's first scrape failed, so counts run from the server's start */
  before?: PromScrape;
  after: PromScrape;
}


/** Families the run-level views read (TTFT decomposition, cache panel, validity gate). */
export const RUN_FAMILIES: readonly string[] = [
  'sglang:time_to_first_token_seconds',
  'sglang:inter_token_latency_seconds',
  'sglang:queue_time_seconds',
  'sglang:per_stage_req_latency_seconds',
  'sglang:kv_transfer_latency_ms',
  'sglang:kv_transfer_bootstrap_ms',
  'sglang:kv_transfer_alloc_ms',
  'sglang:kv_transfer_total_mb',
  'sglang:kv_transfer_speed_gb_s',
  'sglang:num_bootstrap_failed_reqs',
  'sglang:num_transfer_failed_reqs',
  'sglang:kv_transfer_timeouts',
  'sglang:num_aborted_requests',
  'sglang:prompt_tokens',
  'sglang:generation_tokens',
  'sglang:cached_tokens',
  'sglang:realtime_tokens',
  'sglang:num_requests',
  'sglang:spec_accept_length',
  'sglang:spec_accept_rate',
  // engine_type comes with every scheduler gauge; this one is always there
  'sglang:num_running_reqs',
];

/**
 * One /metrics scrape of every server at a run's start and another at its end: what counter and
 * histogram deltas over exactly that run need (the live collector's rolling window cannot give
 * a whole-run figure). A failed start scrape leaves `before` undefined (counts since server start,
 * flagged by the caller); a failed end scrape drops that server.
 */
export class RunScrapes {
  private readonly getter = new KeepAliveGetter();
  private constructor(
    private readonly endpoints: readonly MetricsEndpoint[],
    private readonly before: Map<string, PromScrape>,
  ) {}

  static async start(endpoints: readonly MetricsEndpoint[], signal?: AbortSignal): Promise<RunScrapes> {
    const r = new RunScrapes(endpoints, new Map());
    for (const [name, scrape] of await r.scrapeAll(signal)) r.before.set(name, scrape);
    return r;
  }

  private async scrapeAll(signal?: AbortSignal): Promise<Map<string, PromScrape>> {
    const out = new Map<string, PromScrape>();
    const s = signal ?? new AbortController().signal;
    await Promise.all(
      this.endpoints.map(async (ep) => {
        try {
          const { status, body } = await this.getter.get(metricsUrl(ep.url), { signal: s, timeoutMs: 5000 });
          if (status >= 200 && status < 300) out.set(ep.name, parseForFamilies(body, RUN_FAMILIES));
        } catch {
          // a server without --enable-metrics, or gone: the views say what is missing
        }
      }),
    );
    return out;
  }

  /** scrape again and return one window per server that answered */
  async finish(signal?: AbortSignal): Promise<ServerWindow[]> {
    try {
      const after = await this.scrapeAll(signal);
      return this.endpoints.flatMap((ep) => {
        const a = after.get(ep.name);
        return a ? [{ endpoint: ep.name, before: this.before.get(ep.name), after: a }] : [];
      });
    } finally {
      this.getter.dispose();
    }
  }

  dispose(): void {
    this.getter.dispose();
  }
}
