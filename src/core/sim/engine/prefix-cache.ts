import type { PromptPages } from '../prompt-pages';

/**
 * Radix-cache stand-in: prefix pages (prompt-pages.ts) held in LRU order with a token capacity.
 * A lookup walks a prompt's page chain from the start and stops at the first page not held: the
 * matched pages are the cached prefix (SGLang's match_prefix). Every page of the prompt is then
 * held (the request's KV stays in the tree after it finishes). Pages are touched from the last to
 * the first, so a prefix is always more recent than its extensions and eviction takes leaves
 * first, as SGLang's radix cache evicts LRU leaves.
 */
export class PagedPrefixCache {
  /** chain hash -> page tokens, in LRU order (oldest first) */
  private readonly pages = new Map<number, number>();
  private heldTokens = 0;

  constructor(private readonly capacityTokens: number) {}

  /** prompt tokens served from cache; SGLang always computes at least the last prompt token */
  lookup(p: PromptPages, promptTokens: number): number {
    if (this.capacityTokens <= 0) return 0;
    let matched = 0;
    let i = 0;
    for (; i < p.hashes.length; i++) {
      if (!this.pages.has(p.hashes[i])) break;
      matched += p.lengths[i];
    }
    for (let k = p.hashes.length - 1; k >= 0; k--) {
      const h = p.hashes[k];
      const had = this.pages.get(h);
      if (had !== undefined) this.pages.delete(h);
      else this.heldTokens += p.lengths[k];
      this.pages.set(h, p.lengths[k]);
    }
    this.evict();
    return Math.max(0, Math.min(matched, promptTokens - 1));
  }

  /** tokens the cache holds */
  get tokens(): number {
    return this.heldTokens;
  }

  private evict(): void {
    while (this.heldTokens > this.capacityTokens) {
      const oldest = this.pages.entries().next();
      if (oldest.done) break;
      this.pages.delete(oldest.value[0]);
      this.heldTokens -= oldest.value[1];
    }
  }

  clear(): void {
    this.pages.clear();
    this.heldTokens = 0;
  }
}
