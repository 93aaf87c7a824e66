import type { EngineKind } from './catalog';
import type { Engine } from './types';
import { sglangEngine } from './sglang/engine';
import { vllmEngine } from './vllm/engine';

/**
 * The engines: the one list. Adding one: its folder (engine.ts, command.ts, validate.ts, its flag
 * catalog data) and one entry here; EngineKind (flag-catalog.ts) names it, and its catalog joins CATALOGS (catalog.ts).
 */
export const ENGINES: Readonly<Record<EngineKind, Engine>> = { sglang: sglangEngine, vllm: vllmEngine };

export function engineOf(kind: EngineKind): Engine {
  return ENGINES[kind];
}

export type { Engine } from './types';
