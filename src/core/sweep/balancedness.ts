import { compareStates, parseServerMetrics, reduceScrape, type ServerState } from '../telemetry/server/normalize';

/**
 * SGLang's expert balancedness over a window, from the `sglang:eplb_balancedness` Summary on
 * /metrics (exported from moe_ep_rank 0; real SGLang needs --enable-metrics and
 * --expert-balancedness-report-mode prometheus): Δsum/Δcount between two scrapes, over every
 * server that exports it, weighted by its passes.
 */
export async function scrapeStates(urls: readonly string[], signal?: AbortSignal): Promise<Map<string, ServerState>> {
  const out = new Map<string, ServerState>();
  await Promise.all(
    urls.map(async (u) => {
      try {
        const res = await fetch(`${u.replace(/\/+$/, '')}/metrics`, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000) });
        if (!res.ok) {
          await res.arrayBuffer();
          return;
        }
        out.set(u, reduceScrape(parseServerMetrics(await res.text()), Date.now()));
      } catch {
        // a server without /metrics simply has no balancedness to report
      }
    }),
  );
  return out;
}

export function windowBalancedness(before: Map<string, ServerState>, after: Map<string, ServerState>): { mean: number | null; servers: number } {
  let weighted = 0;
  let passes = 0;
  let servers = 0;
  for (const [url, b] of before) {
    const a = after.get(url);
    if (!a) continue;
    const sample = compareStates(b, { ...a, tsMs: Math.max(a.tsMs, b.tsMs + 1) }, url);
    const bal = sample.eplbBalancedness;
    if (bal === undefined) continue;
    // weight by the passes the window saw on that server
    let dCount = 0;
    for (const [k, v] of a.summaries.eplbBalancedness ?? new Map()) dCount += v.count - (b.summaries.eplbBalancedness?.get(k)?.count ?? 0);
    const w = Math.max(1, dCount);
    weighted += bal * w;
    passes += w;
    servers++;
  }
  return { mean: passes > 0 ? weighted / passes : null, servers };
}
