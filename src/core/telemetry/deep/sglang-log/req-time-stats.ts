import { SGLANG_PREFIX } from './formats';

/**
 * SGLang's per-request time-stats log line (`--enable-request-time-stats-logging`): one line per
 * finished request, from each server that handled it, printed by `Req.log_time_stats()`
 * (managers/schedule_batch.py) when the scheduler streams a finished request and
 * `server_args.enable_request_time_stats_logging` is set, on (attn_)tp rank 0 only
 * (managers/scheduler_output_processor_mixin.py `stream_output_generation`). In PD the prefill
 * server streams a request once its KV transfer is done (disaggregation/prefill.py
 * `process_disagg_prefill_inflight_queue`: completion time set, then `stream_output`), so its
 * line comes when the KV has left; the decode server's when the request finished.
 *
 * The line is `<logger prefix><head>: <durations>`. Head, two spellings:
 *   sgl-project/sglang@fd3907ee4618e96b73ee94d9a836db78efb5d046 managers/schedule_batch.py:
 *     Req Time Stats(rid=<rid>[, bootstrap_room=<room>], input len=<n>, output len=<n>, type=<prefill|decode|unified>)
 *   newer managers/schedule_batch.py (the index's newest copy; the copy's commit is not named by it):
 *     ReqTimeStats(rid=<rid>[, bootstrap_room=<room>], input_len=<n>, cached_input_len=<n>, output_len=<n>, type=<...>)
 * `rid` is printed as is (`{self.rid}`): the request id SGLang returns as `meta_info.id` (and the
 * OpenAI `id`). In PD the router sends one request to a prefill and a decode server, each with
 * its own rid unless the client set one; the `bootstrap_room` (the same on both sides) joins them.
 *
 * Durations, `convert_to_duration` (`format_duration`: `{ms:.2f}ms`), three generations:
 *  A. sgl-project/sglang@fd3907ee metrics/collector.py TimeStats (sub-phases marked "TODO: correct
 *     set them", i.e. printed as 0):
 *     prefill: bootstrap_queue_duration(Xms) = alloc_wait(Xms) + bootstrap(Xms) + other(Xms); queue_duration=Xms, forward_duration=Xms, start=T
 *     decode:  prealloc_queue_duration(Xms) = alloc_wait(Xms) + bootstrap(Xms) + other(Xms); transfer_duration=Xms; queue_duration=Xms, forward_duration=Xms, start=T
 *  B. sgl-project/sglang@602413bc230f597e24cda749c7cc2f6ba92bff85 observability/req_time_stats.py
 *     SchedulerReqTimeStats:
 *     prefill: bootstrap_queue_duration(Xms) queue_duration=Xms, forward_duration=Xms, start=T, transfer_speed=F.FFGB/s, transfer_total=F.FFMB, #retries=N
 *     decode:  prealloc_queue_duration(Xms) transfer_duration=Xms; queue_duration=Xms, forward_duration=Xms, start=T
 *  C. sgl-project/sglang@00ce49e05c17e08f643afab34f3cdcef14935ac0 (same file, after PR #19009's
 *     bootstrap_done_time): B with ` = bootstrap(Xms) + alloc_wait(Xms); ` after the first
 *     duration when bootstrap_done_time was set.
 *  unified (all): queue_duration=Xms, forward_duration=Xms, start_time=T
 * Meanings (SchedulerReqTimeStats @00ce49e0): prefill bootstrap_queue = wait-queue entry −
 * bootstrap-queue entry (bootstrap = bootstrap done − entry, alloc_wait = the rest), queue =
 * forward entry − wait-queue entry, forward = completion − forward entry (completion comes after
 * the KV transfer, so it spans prefill compute and the transfer); transfer_speed / transfer_total
 * come from compute_and_observe_kv_transfer_metrics (total_mb/1024 ÷ transfer latency s).
 * Decode prealloc_queue = transfer-queue entry − prealloc entry, transfer = wait-queue entry −
 * transfer-queue entry (waiting for the prefill's KV), queue = forward entry − wait-queue entry,
 * forward = completion − forward entry. `start` is the server's perf_counter (not wall time).
 * A duration whose stamps were never set comes out negative; such a value is dropped here.
 */
export type ReqTimeStatsKind = 'prefill' | 'decode' | 'unified';

export interface ReqTimeStatsLine {
  rid: string;
  /** PD: the room both sides print (kept as text: SGLang draws it up to 2^63) */
  bootstrapRoom?: string;
  type: ReqTimeStatsKind;
  inputLen?: number;
  cachedInputLen?: number;
  outputLen?: number;
  /** prefill: bootstrap_queue_duration; decode: prealloc_queue_duration (ms) */
  firstQueueMs?: number;
  /** sub-phases of firstQueueMs, when the server measured them */
  bootstrapMs?: number;
  allocWaitMs?: number;
  /** decode: waiting for the KV (transfer_duration) */
  transferWaitMs?: number;
  queueMs?: number;
  forwardMs?: number;
  /** prefill: the KV transfer's speed and size as the server computed them */
  transferSpeedGbS?: number;
  transferTotalMb?: number;
  retries?: number;
  /** the logger prefix's time stamp */
  logTime?: string;
}

const ANCHORED_PREFIX = new RegExp(`^${SGLANG_PREFIX.source}`);
const HEAD = /^(?:Req Time Stats|ReqTimeStats)\((.*?)\):\s*(.*)$/;
const PAREN_MS = /([A-Za-z_]+)\((-?\d+(?:\.\d+)?)ms\)/g;
const KEY_VALUE = /(#?[A-Za-z_]+)=(-?\d+(?:\.\d+)?)(ms|GB\/s|MB)?/g;

const nonNegative = (v: number): number | undefined => (Number.isFinite(v) && v >= 0 ? v : undefined);

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && (t[0] === "'" || t[0] === '"') && t[t.length - 1] === t[0] ? t.slice(1, -1) : t;
}

/**
 * One log line, or undefined when it is not a request time-stats line (or it names no request).
 * Accepts the logger prefix (and a shipper's second stamp in front of it) or the bare message.
 */
export function parseReqTimeStatsLine(line: string): ReqTimeStatsLine | undefined {
  if (line.indexOf('Time Stats(') < 0 && line.indexOf('TimeStats(') < 0) return undefined;
  let message = line;
  let logTime: string | undefined;
  const outer = SGLANG_PREFIX.exec(line);
  if (outer) {
    message = line.slice(outer.index + outer[0].length);
    logTime = outer[1];
    for (let inner = ANCHORED_PREFIX.exec(message); inner; inner = ANCHORED_PREFIX.exec(message)) {
      logTime = inner[1];
      message = message.slice(inner[0].length);
    }
  }
  const m = HEAD.exec(message.trim());
  if (!m) return undefined;
  const head = new Map<string, string>();
  for (const part of m[1].split(/,\s*/)) {
    const i = part.indexOf('=');
    if (i > 0) head.set(part.slice(0, i).trim(), part.slice(i + 1));
  }
  const rid = head.has('rid') ? unquote(head.get('rid') as string) : '';
  const type = head.get('type')?.trim();
  if (!rid || (type !== 'prefill' && type !== 'decode' && type !== 'unified')) return undefined;
  const out: ReqTimeStatsLine = { rid, type };
  if (logTime !== undefined) out.logTime = logTime;
  const room = head.get('bootstrap_room')?.trim();
  if (room && room !== 'None') out.bootstrapRoom = room;
  const int = (k: string): number | undefined => {
    const v = head.get(k);
    const n = v === undefined ? NaN : Number(v.trim());
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const setInt = (field: 'inputLen' | 'cachedInputLen' | 'outputLen', ...keys: string[]): void => {
    for (const k of keys) {
      const n = int(k);
      if (n !== undefined) {
        out[field] = n;
        return;
      }
    }
  };
  setInt('inputLen', 'input_len', 'input len');
  setInt('cachedInputLen', 'cached_input_len');
  setInt('outputLen', 'output_len', 'output len');

  const body = m[2];
  const paren = new Map<string, number>();
  for (const p of body.matchAll(PAREN_MS)) paren.set(p[1], Number(p[2]));
  const kv = new Map<string, number>();
  for (const p of body.matchAll(KEY_VALUE)) kv.set(p[1], Number(p[2]));
  const first = paren.get(type === 'prefill' ? 'bootstrap_queue_duration' : 'prealloc_queue_duration');
  if (first !== undefined && type !== 'unified') out.firstQueueMs = nonNegative(first);
  const boot = paren.get('bootstrap');
  const alloc = paren.get('alloc_wait');
  // generation A printed its never-set sub-phases as 0 and the whole span as "other": not a measurement
  const placeholder = paren.has('other') && boot === 0 && alloc === 0;
  if (!placeholder && type !== 'unified') {
    if (boot !== undefined) out.bootstrapMs = nonNegative(boot);
    if (alloc !== undefined) out.allocWaitMs = nonNegative(alloc);
  }
  if (type === 'decode' && kv.has('transfer_duration')) out.transferWaitMs = nonNegative(kv.get('transfer_duration') as number);
  if (kv.has('queue_duration')) out.queueMs = nonNegative(kv.get('queue_duration') as number);
  if (kv.has('forward_duration')) out.forwardMs = nonNegative(kv.get('forward_duration') as number);
  if (type === 'prefill') {
    if (kv.has('transfer_speed')) out.transferSpeedGbS = nonNegative(kv.get('transfer_speed') as number);
    if (kv.has('transfer_total')) out.transferTotalMb = nonNegative(kv.get('transfer_total') as number);
    const r = kv.get('#retries');
    if (r !== undefined && Number.isInteger(r) && r >= 0) out.retries = r;
  }
  for (const k of Object.keys(out) as (keyof ReqTimeStatsLine)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * The KV transfer of one request as its prefill server measured it, ms: transfer_total ÷
 * transfer_speed (the server derived the speed from that latency). Undefined when the server
 * printed no speed (0.00: it computed none, or older builds).
 */
export function transferMsOf(p: Pick<ReqTimeStatsLine, 'transferSpeedGbS' | 'transferTotalMb'>): number | undefined {
  if (p.transferSpeedGbS === undefined || p.transferTotalMb === undefined || p.transferSpeedGbS <= 0) return undefined;
  return (p.transferTotalMb / 1024 / p.transferSpeedGbS) * 1000;
}

/** What is kept per request and side: a few numbers (the line minus its text fields). */
export type ReqTimeStatsEntry = Omit<ReqTimeStatsLine, 'rid' | 'logTime' | 'type' | 'bootstrapRoom'>;

/** Both sides of one client request, as far as the servers logged them. */
export interface JoinedReqTimes {
  prefill?: ReqTimeStatsEntry;
  decode?: ReqTimeStatsEntry;
}

function entryOf(l: ReqTimeStatsLine): ReqTimeStatsEntry {
  const { rid: _rid, logTime: _t, type: _type, bootstrapRoom: _room, ...rest } = l;
  return rest;
}

/**
 * The per-request PD lines of a run, keyed for the join with the client's records: decode lines
 * by rid (the id the client got back from the decode server), prefill lines by bootstrap room
 * (the decode line's room finds them) and by rid (when the client set the rid, both sides share
 * it). Bounded: at most `maxPerSide` requests per side; the oldest go first.
 */
export class ReqTimeStatsStore {
  private readonly decode = new Map<string, { room?: string; e: ReqTimeStatsEntry }>();
  private readonly prefillByRid = new Map<string, ReqTimeStatsEntry>();
  private readonly prefillByRoom = new Map<string, ReqTimeStatsEntry>();
  private readonly waiters = new Set<() => void>();
  /** lines seen per kind since the start (unified lines are counted, not kept) */
  readonly counts = { prefill: 0, decode: 0, unified: 0 };

  constructor(private readonly maxPerSide = 200_000) {}

  add(l: ReqTimeStatsLine): void {
    this.counts[l.type]++;
    if (l.type === 'decode') {
      this.decode.set(l.rid, l.bootstrapRoom !== undefined ? { room: l.bootstrapRoom, e: entryOf(l) } : { e: entryOf(l) });
      trim(this.decode, this.maxPerSide);
    } else if (l.type === 'prefill') {
      const e = entryOf(l);
      this.prefillByRid.set(l.rid, e);
      trim(this.prefillByRid, this.maxPerSide);
      if (l.bootstrapRoom !== undefined) {
        this.prefillByRoom.set(l.bootstrapRoom, e);
        trim(this.prefillByRoom, this.maxPerSide);
      }
    }
    for (const w of this.waiters) w();
  }

  /** any request line seen at all (the servers log them: the flag is on) */
  get seen(): number {
    return this.counts.prefill + this.counts.decode + this.counts.unified;
  }

  /** the two sides of the request the client knows as `rid` */
  join(rid: string): JoinedReqTimes {
    const d = this.decode.get(rid);
    // the room first: without a client rid the prefill's own rid is another one, and two
    // emulated or restarted servers may even draw the same rids for different requests
    const p = d?.room !== undefined ? (this.prefillByRoom.get(d.room) ?? this.prefillByRid.get(rid)) : this.prefillByRid.get(rid);
    const out: JoinedReqTimes = {};
    if (p) out.prefill = p;
    if (d) out.decode = d.e;
    return out;
  }

  /**
   * Resolves when every rid has its decode line and the prefill line it points to, or after
   * `timeoutMs`: log lines trail the responses by the follow streams' delay. At once when no
   * request line was seen at all (the servers do not log them).
   */
  settle(rids: readonly string[], timeoutMs: number): Promise<void> {
    const complete = (r: string): boolean => {
      const d = this.decode.get(r);
      if (!d) return false;
      return d.room === undefined || this.join(r).prefill !== undefined;
    };
    const pending = new Set(rids.filter((r) => !complete(r)));
    if (pending.size === 0 || this.seen === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      // lines arrive during the run: what is still pending at its end is a short tail
      const check = (): void => {
        for (const r of pending) if (complete(r)) pending.delete(r);
        if (pending.size === 0) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
    });
  }
}

function trim<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const first = m.keys().next();
    if (first.done) return;
    m.delete(first.value);
  }
}
