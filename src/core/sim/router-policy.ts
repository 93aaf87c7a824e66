/**
 * Worker selection of the emulated router (regular mode), after sglang_router's policies
 * (sgl-router/src/policies/cache_aware.rs @026f853b):
 * - round_robin: the next worker in turn;
 * - cache_aware: when the loads (requests in flight per worker) are imbalanced — max - min >
 *   balance_abs_threshold AND max > min * balance_rel_threshold — the least loaded worker;
 *   otherwise the worker whose approximate tree holds the longest prefix of the request text if
 *   matched / text characters > cache_threshold, else the worker with the smallest tree. The
 *   request text is then inserted into the chosen worker's tree (in both cases).
 * The router's tree holds raw characters; this one holds CHUNK_CHARS-character chunks as chain
 * hashes, with an LRU cap per worker (the router evicts LRU leaves past max_tree_size).
 */
import { hashString, mix32 } from './rng';

export type RouterPolicyName = 'round_robin' | 'cache_aware' | 'random';

export interface CacheAwareConfig {
  cacheThreshold: number;
  balanceAbsThreshold: number;
  balanceRelThreshold: number;
  /** characters kept per worker tree */
  maxTreeChars: number;
}

/** launch_router defaults (router_args.py): --cache-threshold 0.3, --balance-abs-threshold 64, --balance-rel-threshold 1.5 */
export const CACHE_AWARE_DEFAULTS: CacheAwareConfig = { cacheThreshold: 0.3, balanceAbsThreshold: 64, balanceRelThreshold: 1.5, maxTreeChars: 64 * 1024 * 1024 };

const CHUNK_CHARS = 32;

class ApproxTree {
  private readonly chunks = new Map<number, number>();
  chars = 0;
  constructor(private readonly maxChars: number) {}

  matchChars(keys: readonly number[], lengths: readonly number[]): number {
    let m = 0;
    for (let i = 0; i < keys.length; i++) {
      if (!this.chunks.has(keys[i])) break;
      m += lengths[i];
    }
    return m;
  }

  insert(keys: readonly number[], lengths: readonly number[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      if (this.chunks.has(keys[i])) this.chunks.delete(keys[i]);
      else this.chars += lengths[i];
      this.chunks.set(keys[i], lengths[i]);
    }
    while (this.chars > this.maxChars) {
      const oldest = this.chunks.entries().next();
      if (oldest.done) break;
      this.chunks.delete(oldest.value[0]);
      this.chars -= oldest.value[1];
    }
  }
}

function chunkKeys(text: string): { keys: number[]; lengths: number[] } {
  const keys: number[] = [];
  const lengths: number[] = [];
  let chain = 0x3c6ef372;
  for (let i = 0; i < text.length; i += CHUNK_CHARS) {
    const piece = text.slice(i, i + CHUNK_CHARS);
    chain = mix32(chain, hashString(piece));
    keys.push(chain);
    lengths.push(piece.length);
  }
  return { keys, lengths };
}

/** the text sglang_router routes on: the prompt text, the messages' contents, or the token ids */
export function routingText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const o = body as Record<string, unknown>;
  if (typeof o['text'] === 'string') return o['text'];
  if (typeof o['prompt'] === 'string') return o['prompt'];
  if (Array.isArray(o['prompt']) && o['prompt'].every((x) => typeof x === 'number')) return o['prompt'].join(' ');
  if (Array.isArray(o['input_ids']) && o['input_ids'].every((x) => typeof x === 'number')) return o['input_ids'].join(' ');
  if (Array.isArray(o['messages'])) {
    let s = '';
    for (const m of o['messages']) {
      if (typeof m !== 'object' || m === null) continue;
      const c = (m as Record<string, unknown>)['content'];
      const role = (m as Record<string, unknown>)['role'];
      s += `${typeof role === 'string' ? role : ''}: ${typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: unknown) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('') : ''}\n`;
    }
    return s;
  }
  return '';
}

export class WorkerSelector {
  private rr = 0;
  private readonly trees: ApproxTree[];
  /** requests in flight per worker (the router's worker.load()) */
  readonly loads: number[];

  constructor(
    readonly policy: RouterPolicyName,
    private readonly workers: number,
    private readonly config: CacheAwareConfig = CACHE_AWARE_DEFAULTS,
    private readonly random: () => number = Math.random,
  ) {
    this.trees = Array.from({ length: workers }, () => new ApproxTree(config.maxTreeChars));
    this.loads = new Array<number>(workers).fill(0);
  }

  /** whether select() needs the request text (the body is parsed only then) */
  get needsText(): boolean {
    return this.policy === 'cache_aware';
  }

  select(text = ''): number {
    if (this.policy === 'round_robin') return this.rr++ % this.workers;
    if (this.policy === 'random') return Math.floor(this.random() * this.workers);
    const { keys, lengths } = chunkKeys(text);
    let max = -Infinity;
    let min = Infinity;
    let least = 0;
    for (let i = 0; i < this.workers; i++) {
      const l = this.loads[i];
      if (l > max) max = l;
      if (l < min) {
        min = l;
        least = i;
      }
    }
    let chosen: number;
    if (max - min > this.config.balanceAbsThreshold && max > min * this.config.balanceRelThreshold) chosen = least;
    else {
      let best = 0;
      let bestChars = -1;
      for (let i = 0; i < this.workers; i++) {
        const m = this.trees[i].matchChars(keys, lengths);
        if (m > bestChars) {
          bestChars = m;
          best = i;
        }
      }
      const rate = text.length > 0 ? bestChars / text.length : 0;
      if (rate > this.config.cacheThreshold) chosen = best;
      else {
        chosen = 0;
        for (let i = 1; i < this.workers; i++) if (this.trees[i].chars < this.trees[chosen].chars) chosen = i;
      }
    }
    this.trees[chosen].insert(keys, lengths);
    return chosen;
  }
}
