import type { ServerShape } from '../shape';
import type { SglangMetrics } from '../sglang-metrics';
import { DEEPSEEK_V3, stepCost, type CommMode, type RankWork } from './perf-model';
import { MoeRouting } from './moe';
import type { ExpertRecorder } from './expert-recorder';
import { awaitKv, type BootstrapRegistry } from './bootstrap';
import type { Engine, EngineJob, JobEvents, JobHandle } from './types';
import { decodeBatchLine, prefillBatchLine, reqTimeStatsLine, schedulerPrefix, type ReqTimeStatsLogFields } from '../deep/sched-log';
import { PagedPrefixCache } from './prefix-cache';

/** DeepSeek-V3 MLA KV per token: 61 layers x (512 latent + 64 rope) x 2 bytes (bf16) */
const KV_BYTES_PER_TOKEN = 61 * 576 * 2;

type SeqState = 'prealloc' | 'transfer' | 'waiting' | 'prefilling' | 'running' | 'inflight' | 'done';

interface Seq {
  job: EngineJob;
  events: JobEvents;
  rank: number;
  state: SeqState;
  /** prompt tokens still to prefill */
  toPrefill: number;
  prefilled: number;
  produced: number;
  cached: number;
  /** KV tokens reserved for the whole life of the sequence */
  reserved: number;
  abort: AbortController;
  /** performance.now() when the scheduler admitted it to a forward batch (SGLang's forward_entry_time) */
  forwardEntryMs: number;
  /** decode role, performance.now(): KV reserved (transfer-queue entry), KV in place (wait-queue entry) */
  transferEntryMs: number;
  kvInPlaceMs: number;
}

interface Rank {
  waiting: Seq[];
  prefilling: Seq[];
  running: Seq[];
  prealloc: Seq[];
  transfer: number;
  inflight: number;
  kvReserved: number;
  genTokensSinceLog: number;
  lastLogMs: number;
  decodeStepsSinceLog: number;
  genThroughput: number;
  lastCacheHitRate: number;
}

export interface SchedulerOptions {
  shape: ServerShape;
  seed: number;
  timeScale: number;
  kvTokensPerRank: number;
  metrics: SglangMetrics | null;
  recorder: ExpertRecorder;
  moe: MoeRouting;
  /** prefill role: where finished KV is announced */
  bootstrapRegistry: BootstrapRegistry | null;
  log: (line: string) => void;
  /** model time of KV hand-off per prompt token (prefill -> decode) */
  transferMsPerToken?: number;
  bootstrapTimeoutMs?: number;
}

/**
 * Continuous-batching scheduler of one emulated server (all its DP-attention ranks), stepping
 * the performance model with one timer per forward pass (never per token).
 */
export class Scheduler implements Engine {
  private readonly ranks: Rank[];
  private readonly maxRunningPerRank: number;
  private timer: NodeJS.Timeout | null = null;
  private nextRank = 0;
  private forwardSleepSec = 0;
  private disposed = false;
  private readonly cache: PagedPrefixCache;
  private passesSinceRebalance = 0;
  private rebalanceLoad: Float64Array;
  /** for telemetry: model-busy milliseconds accumulated, and the last step's pairs */
  busyMs = 0;
  lastBalancedness = 1;
  passCount = 0;
  private readonly attnTp: number;

  constructor(private readonly o: SchedulerOptions) {
    const dp = Math.max(1, o.shape.dpSize);
    this.attnTp = Math.max(1, Math.floor(o.shape.tpSize / dp));
    this.ranks = Array.from({ length: dp }, () => ({
      waiting: [],
      prefilling: [],
      running: [],
      prealloc: [],
      transfer: 0,
      inflight: 0,
      kvReserved: 0,
      genTokensSinceLog: 0,
      lastLogMs: performance.now(),
      decodeStepsSinceLog: 0,
      genThroughput: 0,
      lastCacheHitRate: 0,
    }));
    this.maxRunningPerRank = Math.max(1, Math.floor(o.shape.maxRunningRequests / dp));
    // one tree per server, as large as the KV pool (SGLang's radix cache lives in the pool; a DP
    // rank's own tree is not modelled: the server's ranks share one)
    this.cache = new PagedPrefixCache(o.shape.disableRadixCache ? 0 : o.kvTokensPerRank * dp);
    this.rebalanceLoad = new Float64Array(o.moe.config.layers * o.moe.config.experts);
    const m = o.metrics;
    if (m) for (const l of m.rankLabels) m.maxTotalNumTokens.set(l, o.kvTokensPerRank);
  }

  submit(job: EngineJob, events: JobEvents): JobHandle {
    const rank = this.nextRank;
    this.nextRank = (this.nextRank + 1) % this.ranks.length;
    const out = job.outcome.outputTokens;
    const seq: Seq = {
      job,
      events,
      rank,
      state: 'waiting',
      toPrefill: job.req.promptTokens,
      prefilled: 0,
      produced: 0,
      cached: 0,
      reserved: job.req.promptTokens + out,
      abort: new AbortController(),
      forwardEntryMs: 0,
      transferEntryMs: 0,
      kvInPlaceMs: 0,
    };
    const r = this.ranks[rank];
    if (this.o.shape.role === 'decode') {
      // the KV arrives from a prefill server; the prefill's first token comes with it
      seq.state = 'prealloc';
      r.prealloc.push(seq);
    } else {
      const cacheable = this.o.shape.role === 'unified' || this.o.shape.role === 'prefill';
      seq.cached = cacheable && !this.o.shape.disableRadixCache ? this.cache.lookup(job.req.pages(), job.req.promptTokens) : 0;
      seq.toPrefill = job.req.promptTokens - seq.cached;
      r.waiting.push(seq);
    }
    this.kick();
    return { abort: () => this.abortSeq(seq) };
  }

  activeRequests(): number {
    let n = 0;
    for (const r of this.ranks) n += r.waiting.length + r.prefilling.length + r.running.length + r.prealloc.length + r.transfer + r.inflight;
    return n;
  }

  flushCache(): void {
    this.cache.clear();
  }

  setForwardSleep(seconds: number | null): void {
    this.forwardSleepSec = seconds ?? 0;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const r of this.ranks) {
      for (const s of [...r.waiting, ...r.prefilling, ...r.running, ...r.prealloc]) s.abort.abort();
    }
  }

  /** KV tokens in use on a rank (prompt + generated of admitted sequences) */
  kvUsed(rank: number): number {
    const r = this.ranks[rank];
    let used = 0;
    for (const s of r.running) used += s.job.req.promptTokens + s.produced;
    for (const s of r.prefilling) used += s.cached + s.prefilled;
    return used;
  }

  rankCount(): number {
    return this.ranks.length;
  }

  runningPerRank(rank: number): number {
    return this.ranks[rank].running.length + this.ranks[rank].prefilling.length;
  }

  private removeFrom(list: Seq[], s: Seq): boolean {
    const i = list.indexOf(s);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  private abortSeq(s: Seq): void {
    if (s.state === 'done') return;
    const r = this.ranks[s.rank];
    s.abort.abort();
    if (this.removeFrom(r.running, s) || this.removeFrom(r.prefilling, s)) r.kvReserved -= s.reserved;
    else if (s.state === 'transfer') r.kvReserved -= s.reserved;
    this.removeFrom(r.waiting, s);
    this.removeFrom(r.prealloc, s);
    if (s.state === 'prefilling' && this.o.bootstrapRegistry && s.job.req.bootstrap?.room != null) this.o.bootstrapRegistry.publish(s.job.req.bootstrap.room, false, 'prefill request aborted');
    s.state = 'done';
  }

  private finishSeq(s: Seq): void {
    const r = this.ranks[s.rank];
    s.state = 'done';
    this.removeFrom(r.running, s);
    r.kvReserved -= s.reserved;
    this.logTimeStats(s);
    s.events.onDone();
  }

  /**
   * --enable-request-time-stats-logging: the finished request's line, with SGLang's stamps as the
   * model set them (SchedulerReqTimeStats, see sched-log.ts reqTimeStatsLine). The emulator has
   * no bootstrap handshake before prefill and a prefill never waits for the decode's allocation
   * (its kv_transfer_bootstrap_ms / alloc observations are 0, see admitPrefills); a decode
   * server's wait for a KV allocation is its prealloc queue (its kv_transfer_alloc_ms), and the
   * bootstrap sub-phase is not set there, so its line has no breakdown. Transfer speed and size
   * are the model's, as in the kv_transfer_* histograms.
   */
  private logTimeStats(s: Seq, transfer?: { ms: number; totalMb: number }): void {
    const sh = this.o.shape;
    if (!sh.enableRequestTimeStatsLogging) return;
    const now = performance.now();
    const req = s.job.req;
    const base = { rid: req.rid, bootstrapRoom: req.bootstrap?.room ?? null, inputLen: req.promptTokens, cachedInputLen: s.cached, outputLen: s.produced };
    const d = (a: number, b: number): number => Math.max(0, b - a);
    let f: ReqTimeStatsLogFields;
    if (sh.role === 'prefill') {
      const t = transfer ?? { ms: 0, totalMb: 0 };
      f = { ...base, type: 'prefill', startSec: s.job.arrivalMs / 1000, bootstrapQueueMs: 0, breakdown: { bootstrapMs: 0, allocWaitMs: 0 }, queueMs: d(s.job.arrivalMs, s.forwardEntryMs), forwardMs: d(s.forwardEntryMs, now), transferSpeedGbS: t.ms > 0 ? t.totalMb / 1024 / (t.ms / 1000) : 0, transferTotalMb: t.totalMb, retries: 0 };
    } else if (sh.role === 'decode') {
      f = { ...base, type: 'decode', startSec: s.job.arrivalMs / 1000, preallocQueueMs: d(s.job.arrivalMs, s.transferEntryMs), transferMs: d(s.transferEntryMs, s.kvInPlaceMs), queueMs: 0, forwardMs: d(s.kvInPlaceMs, now) };
    } else {
      f = { ...base, type: 'unified', startSec: s.job.arrivalMs / 1000, queueMs: d(s.job.arrivalMs, s.forwardEntryMs), forwardMs: d(s.forwardEntryMs, now) };
    }
    this.o.log(`${schedulerPrefix(sh, s.rank)} ${reqTimeStatsLine(f)}`);
  }

  private kick(): void {
    if (this.timer || this.disposed) return;
    this.admitDecodeArrivals();
    if (!this.hasWork()) return;
    this.runStep();
  }

  private hasWork(): boolean {
    return this.ranks.some((r) => r.waiting.length > 0 || r.prefilling.length > 0 || r.running.length > 0);
  }

  /** decode role: reserve KV (prealloc queue), then wait for the prefill's KV (transfer queue) */
  private admitDecodeArrivals(): void {
    if (this.o.shape.role !== 'decode') return;
    this.ranks.forEach((r) => {
      while (r.prealloc.length > 0) {
        const s = r.prealloc[0];
        if (r.kvReserved + s.reserved > this.o.kvTokensPerRank || r.running.length + r.transfer >= this.maxRunningPerRank) break;
        r.prealloc.shift();
        r.kvReserved += s.reserved;
        r.transfer++;
        s.state = 'transfer';
        const t0 = performance.now();
        s.transferEntryMs = t0;
        // decode side: waiting for a KV allocation is the prealloc queue (kv_transfer_alloc_ms)
        const md = this.o.metrics;
        md?.kvTransferAllocMs?.record(md.rankLabels[s.rank], t0 - s.job.arrivalMs);
        awaitKv(s.job.req.bootstrap, this.o.shape.disaggregationBootstrapPort, this.o.shape.disaggregationTransferBackend === 'fake', this.o.bootstrapTimeoutMs ?? 300_000, s.abort.signal).then(
          () => {
            r.transfer--;
            if (s.state !== 'transfer') return;
            s.kvInPlaceMs = performance.now();
            const m = this.o.metrics;
            // KV arrived: it enters the running batch at once, so its decode queue time is ~0
            m?.queueTimeSeconds.observe(m.rankLabels[s.rank], 0);
            if (s.job.times) s.job.times.waitQueueEntryMs = s.job.times.forwardEntryMs = performance.now();
            m?.perStageLatency.observe({ ...m.rankLabels[s.rank], stage: 'decode_transferred' }, (performance.now() - t0) / 1000);
            // SGLang's prebuilt pass that emits the prefill's token (stage fake_output: forward entry ->
            // prebuilt finish, req_time_stats.py @00ce49e0, the observability/ layout) takes no time
            // here: the token goes out at once. The legacy layout is not known to observe it.
            if (m?.layout === 'current') m.perStageLatency.observe({ ...m.rankLabels[s.rank], stage: 'fake_output' }, 0);
            s.state = 'running';
            s.produced = s.job.outcome.outputTokens > 0 ? 1 : 0;
            r.running.push(s);
            s.events.onProgress(s.produced, 0);
            if (s.produced >= s.job.outcome.outputTokens) this.finishSeq(s);
            this.kick();
          },
          (err: unknown) => {
            r.transfer--;
            if (s.state !== 'transfer') return;
            r.kvReserved -= s.reserved;
            s.state = 'done';
            const m = this.o.metrics;
            m?.numBootstrapFailedReqs?.inc(m.rankLabels[s.rank]);
            s.events.onFail(err instanceof Error ? err.message : String(err), 500);
            this.kick();
          },
        );
      }
    });
  }

  private admitPrefills(r: Rank): void {
    while (r.waiting.length > 0) {
      const s = r.waiting[0];
      if (r.running.length + r.prefilling.length >= this.maxRunningPerRank) break;
      const need = this.o.shape.role === 'prefill' ? s.job.req.promptTokens : s.reserved;
      if (r.kvReserved + need > this.o.kvTokensPerRank) {
        if (r.running.length === 0 && r.prefilling.length === 0) {
          // can never fit: SGLang rejects inputs longer than the pool
          r.waiting.shift();
          s.state = 'done';
          s.events.onFail(`The request needs ${need} KV tokens but the pool holds ${this.o.kvTokensPerRank}.`, 400);
          continue;
        }
        break;
      }
      r.waiting.shift();
      s.reserved = need;
      r.kvReserved += need;
      s.state = 'prefilling';
      s.forwardEntryMs = performance.now();
      if (s.job.times) s.job.times.forwardEntryMs = s.forwardEntryMs;
      r.prefilling.push(s);
      const m = this.o.metrics;
      m?.queueTimeSeconds.observe(m.rankLabels[s.rank], (s.forwardEntryMs - s.job.arrivalMs) / 1000);
      // the emulator has no bootstrap handshake before prefill: what it measures is that none happened
      if (this.o.shape.role === 'prefill') m?.kvTransferBootstrapMs?.record(m.rankLabels[s.rank], 0);
    }
  }

  private commMode(prefill: boolean): CommMode {
    const sh = this.o.shape;
    if (sh.moeA2aBackend !== 'deepep' || sh.epSize <= 1) return 'allreduce';
    if (sh.deepepMode === 'auto') return prefill ? 'normal' : 'low_latency';
    return sh.deepepMode;
  }

  private runStep(): void {
    const chunkLimit = this.o.shape.chunkedPrefillSizePerRank;
    const work: RankWork[] = [];
    const plans: { mode: 'idle' | 'decode' | 'extend'; chunk: { s: Seq; tokens: number }[] }[] = [];
    let totalTokens = 0;
    let anyPrefill = false;
    let maxDecodeBatch = 0;
    for (const r of this.ranks) {
      this.admitPrefills(r);
      const w: RankWork = { decodeSeqs: 0, decodeKvTokens: 0, prefillTokens: 0, prefillPairs: 0 };
      const plan: (typeof plans)[number] = { mode: 'idle', chunk: [] };
      if (r.prefilling.length > 0) {
        plan.mode = 'extend';
        let budget = chunkLimit;
        for (const s of r.prefilling) {
          if (budget <= 0) break;
          const t = Math.min(budget, s.toPrefill - s.prefilled);
          if (t <= 0) continue;
          const start = s.cached + s.prefilled;
          w.prefillTokens += t;
          w.prefillPairs += t * start + (t * (t + 1)) / 2;
          plan.chunk.push({ s, tokens: t });
          if (s.job.times) s.job.times.prefillRunStartMs = performance.now();
          budget -= t;
        }
        anyPrefill = true;
      } else if (r.running.length > 0) {
        plan.mode = 'decode';
        w.decodeSeqs = r.running.length;
        for (const s of r.running) w.decodeKvTokens += s.job.req.promptTokens + s.produced;
        maxDecodeBatch = Math.max(maxDecodeBatch, r.running.length);
      }
      totalTokens += w.prefillTokens + w.decodeSeqs;
      work.push(w);
      plans.push(plan);
    }
    if (totalTokens === 0) {
      // everything admitted is waiting on something outside the step loop (KV transfer)
      return;
    }
    const pass = this.o.moe.pass(totalTokens);
    const commMode = this.commMode(anyPrefill);
    const cudaGraph = !anyPrefill && commMode !== 'normal' && maxDecodeBatch <= 512;
    const cost = stepCost({ ranks: work, attnTp: this.attnTp, maxGpuPairsPerLayer: pass.maxGpuPairs, commMode, tbo: this.o.shape.enableTwoBatchOverlap && totalTokens >= 2 * this.ranks.length, cudaGraph });
    const stepMs = cost.totalMs + this.forwardSleepSec * 1000;
    this.busyMs += cost.totalMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.disposed) return;
      this.completeStep(plans, work, pass.logicalCounts, pass.balancedness, anyPrefill, cost.totalMs);
      this.kick();
    }, stepMs * this.o.timeScale);
  }

  private completeStep(plans: { mode: 'idle' | 'decode' | 'extend'; chunk: { s: Seq; tokens: number }[] }[], work: RankWork[], counts: Int32Array, balancedness: number, anyPrefill: boolean, modelMs: number): void {
    this.passCount++;
    this.lastBalancedness = balancedness;
    const m = this.o.metrics;
    const sh = this.o.shape;
    this.o.recorder.record(counts, balancedness);
    m?.eplbBalancedness.observe({ ...m.rankLabels[0], forward_mode: anyPrefill ? 'extend' : 'decode' }, balancedness);
    if (sh.enableEplb) {
      for (let i = 0; i < counts.length; i++) this.rebalanceLoad[i] += counts[i];
      if (++this.passesSinceRebalance >= sh.eplbRebalanceNumIterations) {
        const t0 = performance.now();
        this.o.log(`[EPLBManager] rebalance start`);
        this.o.moe.rebalance(this.rebalanceLoad);
        this.rebalanceLoad.fill(0);
        this.passesSinceRebalance = 0;
        this.o.log(`[EPLBManager] rebalance end time=${((performance.now() - t0) / 1000).toFixed(3)}s`);
      }
    }
    const now = performance.now();
    plans.forEach((plan, ri) => {
      const r = this.ranks[ri];
      const labels = m?.rankLabels[ri];
      if (plan.mode === 'extend') {
        let computed = 0;
        let cached = 0;
        for (const { s, tokens } of plan.chunk) {
          if (s.state !== 'prefilling') continue;
          s.prefilled += tokens;
          if (s.job.times) s.job.times.prefillRunEndMs = now;
          computed += tokens;
          if (s.prefilled < s.toPrefill) continue;
          cached += s.cached;
          this.removeFrom(r.prefilling, s);
          this.prefillFinished(s, r);
        }
        r.lastCacheHitRate = computed + cached > 0 ? cached / (computed + cached) : 0;
        const used = this.kvUsed(ri);
        const pd = sh.role === 'prefill' ? { bootstrapReqs: 0, inflightReqs: r.inflight, inputThroughput: modelMs > 0 ? (computed * 1000) / modelMs : 0 } : undefined;
        this.o.log(`${schedulerPrefix(sh, ri)} ${prefillBatchLine({ newSeqs: plan.chunk.length, newTokens: computed, cachedTokens: cached, tokenUsage: used / this.o.kvTokensPerRank, runningReqs: r.running.length, queueReqs: r.waiting.length, pd })}`);
        if (m && labels) {
          m.realtimeTokens.inc({ ...labels, mode: 'prefill_compute' }, computed);
          m.realtimeTokens.inc({ ...labels, mode: 'prefill_cache' }, cached);
          m.gpuExecutionSeconds.inc({ ...labels, category: 'extend' }, modelMs / 1000);
        }
      } else if (plan.mode === 'decode') {
        const batch = r.running.slice();
        for (const s of batch) {
          if (s.state !== 'running') continue;
          s.produced++;
          s.events.onProgress(s.produced, s.cached);
          if (s.produced >= s.job.outcome.outputTokens) this.finishSeq(s);
        }
        r.genTokensSinceLog += batch.length;
        r.decodeStepsSinceLog++;
        if (m && labels) {
          m.realtimeTokens.inc({ ...labels, mode: 'decode' }, batch.length);
          m.gpuExecutionSeconds.inc({ ...labels, category: 'decode' }, modelMs / 1000);
        }
        if (r.decodeStepsSinceLog >= sh.decodeLogInterval) {
          const dt = (now - r.lastLogMs) / 1000;
          r.genThroughput = dt > 0 ? r.genTokensSinceLog / dt : 0;
          // one line per DP rank with SGLang's rank prefix (issue 11 parses them into per-rank series)
          const used = this.kvUsed(ri);
          const pd = sh.role === 'decode' ? { preallocatedUsage: r.kvReserved / this.o.kvTokensPerRank, preallocReqs: r.prealloc.length, transferReqs: r.transfer, retractedReqs: 0 } : undefined;
          this.o.log(`${schedulerPrefix(sh, ri)} ${decodeBatchLine({ runningReqs: r.running.length, usedTokens: used, tokenUsage: used / this.o.kvTokensPerRank, genThroughput: r.genThroughput, queueReqs: r.waiting.length, cudaGraph: this.commMode(false) !== 'normal', pd })}`);
          r.genTokensSinceLog = 0;
          r.decodeStepsSinceLog = 0;
          r.lastLogMs = now;
        }
      }
      if (m && labels) this.updateRankGauges(ri, labels, work[ri]);
    });
  }

  private prefillFinished(s: Seq, r: Rank): void {
    const role = this.o.shape.role;
    const mf = this.o.metrics;
    mf?.perStageLatency.observe({ ...mf.rankLabels[s.rank], stage: 'prefill_forward' }, (performance.now() - s.forwardEntryMs) / 1000);
    if (s.job.times) s.job.times.prefillFinishedMs = performance.now();
    if (role === 'prefill') {
      // KV goes to the decode server; the request's one token is the first output token
      s.state = 'inflight';
      r.kvReserved -= s.reserved;
      r.inflight++;
      const transferMs = (this.o.transferMsPerToken ?? 0.0015) * s.job.req.promptTokens;
      setTimeout(() => {
        r.inflight--;
        if (s.state !== 'inflight') return;
        s.state = 'done';
        if (s.job.req.bootstrap?.room != null) this.o.bootstrapRegistry?.publish(s.job.req.bootstrap.room, true);
        const m = this.o.metrics;
        const totalMb = (s.job.req.promptTokens * KV_BYTES_PER_TOKEN) / (1024 * 1024);
        // the prefill server's one token (the request's first), as its log line counts it
        s.produced = s.job.outcome.outputTokens > 0 ? 1 : 0;
        this.logTimeStats(s, { ms: transferMs, totalMb });
        if (m) {
          // prefill side, as SchedulerReqTimeStats.compute_and_observe_kv_transfer_metrics does
          const l = m.rankLabels[s.rank];
          m.kvTransferLatencyMs?.record(l, transferMs);
          m.kvTransferTotalMb?.record(l, totalMb);
          if (transferMs > 0) m.kvTransferSpeedGbS?.record(l, totalMb / 1024 / (transferMs / 1000));
        }
        if (s.produced > 0) s.events.onProgress(s.produced, s.cached);
        s.events.onDone();
      }, transferMs * this.o.timeScale);
      return;
    }
    s.state = 'running';
    s.produced = s.job.outcome.outputTokens > 0 ? 1 : 0;
    r.running.push(s);
    if (s.produced > 0) s.events.onProgress(s.produced, s.cached);
    if (s.produced >= s.job.outcome.outputTokens) this.finishSeq(s);
  }

  private updateRankGauges(ri: number, labels: Readonly<Record<string, string>>, w: RankWork): void {
    const m = this.o.metrics;
    if (!m) return;
    const r = this.ranks[ri];
    const used = this.kvUsed(ri);
    m.numRunningReqs.set(labels, r.running.length);
    m.numUsedTokens.set(labels, used);
    m.tokenUsage.set(labels, used / this.o.kvTokensPerRank);
    m.numQueueReqs.set(labels, r.waiting.length);
    m.genThroughput.set(labels, r.genThroughput);
    m.cacheHitRate.set(labels, r.lastCacheHitRate);
    m.decodeSumSeqLens.set(labels, w.decodeKvTokens);
    m.utilization.set(labels, Math.min(1, (r.running.length + r.prefilling.length) / this.maxRunningPerRank));
    m.isCudaGraph.set(labels, w.decodeSeqs > 0 && this.commMode(false) !== 'normal' ? 1 : 0);
    m.numPrefillPreallocQueueReqs?.set(labels, r.waiting.length);
    m.numPrefillInflightQueueReqs?.set(labels, r.inflight);
    m.numDecodePreallocQueueReqs?.set(labels, r.prealloc.length);
    m.numDecodeTransferQueueReqs?.set(labels, r.transfer);
  }

  /** refresh queue gauges outside steps (arrivals while idle) */
  refreshGauges(): void {
    const m = this.o.metrics;
    if (!m) return;
    this.ranks.forEach((r, ri) => {
      const l = m.rankLabels[ri];
      m.numQueueReqs.set(l, r.waiting.length);
      m.numRunningReqs.set(l, r.running.length);
      m.numDecodePreallocQueueReqs?.set(l, r.prealloc.length);
      m.numDecodeTransferQueueReqs?.set(l, r.transfer);
      m.numPrefillInflightQueueReqs?.set(l, r.inflight);
    });
  }
}

export { DEEPSEEK_V3 };
