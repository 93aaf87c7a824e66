import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Block, OutputDoc, TableBlock } from '../output/doc';
import type { DeploymentHandle } from '../exec/handles';
import type { BenchmarkOutcome } from '../bench/benchmark';
import { RunScrapes } from '../telemetry/server/run-scrapes';
import { decomposeTtft, REQUEST_TIME_STATS_FLAG, type ServerWindow, type TtftDecomposition } from '../metrics/ttft-decomposition';
import type { ReqTimeStatsStore } from '../telemetry/deep/sglang-log/req-time-stats';
import { cachePanel, type CachePanel } from '../metrics/cache-panel';
import { GATE_FILE, runGate, type RunGate } from '../metrics/run-gate';
import { writeServerViews } from '../report/server-views';
import { ttftDecompositionBlocks } from '../metrics/ttft-chart';
import { reasoningSplit, type ReasoningSplit } from '../metrics/reasoning';
import type { RunSummary } from '../metrics/summary';

/** What the servers' own counters and histograms say about one sweep step. */
export interface StepServerViews {
  label: string;
  runId: string;
  servers: number;
  decomposition?: TtftDecomposition;
  cache: CachePanel;
  gate: RunGate;
  /** reasoning models: thinking apart from the answer, time to first answer token */
  reasoning?: ReasoningSplit;
  ttft: RunSummary['ttftMs'];
}

/**
 * Scrapes a deployment's servers (not the router) around each step: TTFT decomposition for PD,
 * the cache / speculative panel and the validity gate. URL targets get the gate from the client's
 * side only (zero tokens), since there is no server list to scrape.
 */
export class BenchServerViews {
  readonly steps: StepServerViews[] = [];
  private constructor(
    private readonly endpoints: { name: string; url: string }[],
    /** whether the deployment's launch commands carry --enable-request-time-stats-logging (undefined: commands unknown) */
    private readonly requestLogFlag?: boolean,
  ) {}

  static async forTarget(handle: DeploymentHandle | undefined): Promise<BenchServerViews> {
    const servers = handle ? (await handle.servers()).filter((s) => s.role !== 'router') : [];
    // two servers of one role on one node (replicas with their own ports) keep apart by URL
    const names = servers.map((s) => `${s.role}@${s.node}`);
    const commands = handle?.commands ?? [];
    const flag = commands.length > 0 ? commands.some((c) => c.argv.includes(REQUEST_TIME_STATS_FLAG)) : undefined;
    return new BenchServerViews(servers.map((s, i) => ({ name: names.indexOf(names[i]) === names.lastIndexOf(names[i]) ? names[i] : `${names[i]}#${s.url}`, url: s.url })), flag);
  }

  /**
   * run one step between a start and an end scrape, then judge it; `requestLog`: the per-request
   * lines of the followed server logs (bench telemetry with schedLogs), joined into the TTFT
   * decomposition by rid
   */
  async around(label: string, warmupRequests: number, signal: AbortSignal, run: () => Promise<BenchmarkOutcome>, requestLog?: ReqTimeStatsStore): Promise<{ outcome: BenchmarkOutcome; views: StepServerViews }> {
    const scrapes = this.endpoints.length ? await RunScrapes.start(this.endpoints, signal) : undefined;
    let outcome: BenchmarkOutcome;
    try {
      outcome = await run();
    } catch (err) {
      scrapes?.dispose();
      throw err;
    }
    const windows: ServerWindow[] = scrapes ? await scrapes.finish() : [];
    const decompose = outcome.summary.completed > 0 && outcome.summary.ttftMs.mean !== null;
    // the servers print a request's line once it is done; the followed streams deliver it a little later
    if (decompose && requestLog) await requestLog.settle(outcome.records.filter((r) => r.ok && !r.warmup && r.rid !== undefined).map((r) => r.rid as string), REQUEST_LOG_SETTLE_MS);
    const views: StepServerViews = {
      label,
      runId: outcome.runId,
      servers: windows.length,
      decomposition: decompose && outcome.summary.ttftMs.mean !== null ? decomposeTtft(outcome.summary.ttftMs.mean, windows, outcome.records, { source: requestLog, flagInCommands: this.requestLogFlag }) : undefined,
      reasoning: reasoningOf(outcome),
      ttft: outcome.summary.ttftMs,
      cache: cachePanel(outcome.records, windows),
      gate: runGate(outcome.summary, outcome.records, windows, { warmupRequests, cancelled: outcome.cancelled }),
    };
    this.steps.push(views);
    if (outcome.runDir) {
      await writeFile(path.join(outcome.runDir, GATE_FILE), JSON.stringify({ valid: views.gate.valid, reasons: views.gate.reasons, facts: views.gate.facts }, null, 2) + '\n');
      await writeServerViews(outcome.runDir, {
        ttfatMs: views.reasoning?.ttfatMs,
        reasoningShare: views.reasoning?.reasoningShare,
        prefixCacheHitRate: views.cache.server.hitRate,
        ttftSegmentsMs: views.decomposition ? Object.fromEntries(views.decomposition.segments.map((s) => [s.id, s.ms])) : undefined,
        kvMetricType: views.decomposition?.kv[0]?.type,
      });
    }
    return { outcome, views };
  }

  invalid(): StepServerViews[] {
    return this.steps.filter((s) => !s.gate.valid);
  }

  /** gate badges first, then the decomposition and the cache panel */
  decorate(doc: OutputDoc): OutputDoc {
    if (this.steps.length === 0) return doc;
    const multi = this.steps.length > 1;
    const gateBadges = this.invalid().flatMap((s) => s.gate.reasons.map((r) => ({ level: 'error' as const, text: `INVALID${multi ? ` (${s.label})` : ''}: ${r.text}`, detail: r.detail })));
    const blocks: Block[] = [];
    if (gateBadges.length) blocks.push({ type: 'badges', items: gateBadges });
    const ttft = this.steps.filter((s) => s.decomposition).map((s) => ({ label: s.label, d: s.decomposition as TtftDecomposition }));
    blocks.push(...ttftDecompositionBlocks(ttft));
    if (this.steps.some((s) => s.reasoning)) blocks.push(reasoningTable(this.steps));
    blocks.push(cacheTable(this.steps));
    return { ...doc, blocks: [...blocks.slice(0, gateBadges.length ? 1 : 0), ...doc.blocks, ...blocks.slice(gateBadges.length ? 1 : 0)] };
  }
}

/** how long a step waits for the last requests' log lines after its last response */
const REQUEST_LOG_SETTLE_MS = 5000;

const r3 = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

export function cacheTable(steps: readonly StepServerViews[]): TableBlock {
  return {
    type: 'table',
    title: 'Prefix cache and speculative decoding (server counters over the run; cached tokens per request from the responses)',
    columns: ['run', 'server hit rate', 'cached / prompt tokens', 'by source', 'scheduler hit rate', 'cached tokens / req (mean)', 'p50', 'p99', 'responses reporting', 'spec accept length', 'spec accept rate', 'spec accept length / req (tokens per pass)', 'p50 / req', 'p10 / req', 'spec accept rate / req (mean)', 'responses reporting spec'],
    rows: steps.map((s) => {
      const c = s.cache;
      return [
        s.label,
        r3(c.server.hitRate),
        c.server.servers ? `${c.server.cachedTokens} / ${c.server.promptTokens}` : null,
        Object.keys(c.server.bySource).length ? Object.entries(c.server.bySource).map(([k, v]) => `${k} ${v}`).join(', ') : null,
        r3(c.server.schedulerHitRate),
        r3(c.client.meanCachedTokens),
        c.client.p50CachedTokens,
        c.client.p99CachedTokens,
        `${c.client.reporting}/${c.client.requests}`,
        r3(c.spec.acceptLength),
        r3(c.spec.acceptRate),
        r3(c.spec.perRequest?.acceptLength ?? null),
        r3(c.spec.perRequest?.p50AcceptLength ?? null),
        r3(c.spec.perRequest?.p10AcceptLength ?? null),
        r3(c.spec.perRequest?.meanAcceptRate ?? null),
        c.spec.perRequest ? `${c.spec.perRequest.requests}/${c.client.requests}` : null,
      ];
    }),
  };
}

export function reasoningTable(steps: readonly StepServerViews[]): TableBlock {
  const r1 = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10) / 10);
  return {
    type: 'table',
    title: 'Reasoning: thinking apart from the answer; time to first answer token next to TTFT',
    columns: ['run', 'requests that thought', 'thinking share', 'thinking tokens', 'answer tokens', 'mean TTFT', 'mean TTFAT', 'P50 TTFT', 'P50 TTFAT', 'P99 TTFT', 'P99 TTFAT', 'no answer (cut)'],
    units: [null, null, '%', null, null, 'ms', 'ms', 'ms', 'ms', 'ms', 'ms', null],
    rows: steps.map((s) => {
      const x = s.reasoning;
      return [
        s.label,
        x ? `${x.reasoningRequests}/${x.requests}` : '0',
        x ? r1(x.reasoningShare * 100) : null,
        x?.reasoningTokens ?? null,
        x?.answerTokens ?? null,
        r1(s.ttft.mean),
        r1(x?.ttfatMs.mean),
        r1(s.ttft.median),
        r1(x?.ttfatMs.p50),
        r1(s.ttft.p['p99']),
        r1(x?.ttfatMs.p99),
        x?.noAnswer ?? null,
      ];
    }),
  };
}

/**
 * The run's thinking split: from the summary (every request, tallied in the load threads) when
 * it has one, else from the kept records (a run summarized before the columns kept it).
 */
function reasoningOf(outcome: BenchmarkOutcome): ReasoningSplit | undefined {
  const r = outcome.summary.reasoning;
  if (!r) return reasoningSplit(outcome.records);
  return {
    reasoningRequests: r.thinkingRequests,
    requests: outcome.summary.completed,
    reasoningShare: r.thinkingShare,
    reasoningTokens: r.thinkingTokens,
    answerTokens: r.answerTokens,
    ttfatMs: { mean: r.ttfatMs.mean, p50: r.ttfatMs.median, p99: r.ttfatMs.p['p99'] ?? null },
    noAnswer: r.noAnswer,
  };
}

/** the cell fails after its output is drawn: the numbers stay visible, marked */
export function gateFailureMessage(invalid: readonly StepServerViews[], cellName: string): string {
  return `Benchmark "${cellName}" is invalid: ${invalid.map((s) => `${s.label} (run ${s.runId}): ${s.gate.reasons.map((r) => r.text).join('; ')}`).join(' | ')}`;
}

