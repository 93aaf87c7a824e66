import { randomBytes } from 'node:crypto';
import type { DatasetRow } from '../../metrics/record';
import { estimateTokens } from '../../util/tokens';

/**
 * A fresh salt per run, deliberately not derived from the seed: the same seeded workload run twice
 * must not find its prefixes in the server's radix cache (vLLM #52884 measured +86% throughput
 * from exactly that).
 */
export function newCacheSalt(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Prefix every prompt with a salt so no prompt shares a prefix with an earlier run. Shared-prefix
 * rows get one marker per group, so the sharing inside a run (what that dataset measures) survives.
 * Token-id prompts get two salt-derived ids in front.
 */
export function applyCacheBust(rows: readonly DatasetRow[], salt: string, vocabSize = 32000): DatasetRow[] {
  const saltNum = parseInt(salt.slice(0, 8), 16) || 1;
  return rows.map((r, i) => {
    const key = r.group !== undefined ? `g${r.group}` : String(i);
    if (Array.isArray(r.prompt)) {
      const a = (saltNum + i * 7919) % vocabSize;
      const b = (Math.floor(saltNum / vocabSize) + i) % vocabSize;
      return { ...r, prompt: [a, b, ...r.prompt], promptLen: r.promptLen + 2 };
    }
    const marker = `[${salt}-${key}] `;
    return { ...r, prompt: marker + r.prompt, promptLen: r.promptLen + estimateTokens(marker) };
  });
}
