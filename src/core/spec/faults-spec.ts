import { z } from 'zod';

/** "10s", "500ms", "1.5m" or a number of seconds -> seconds */
export function parseDurationSec(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v);
  if (!m) return undefined;
  const x = Number(m[1]);
  return m[2] === 'ms' ? x / 1000 : m[2] === 'm' ? x * 60 : x;
}

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDurationSec(v);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a time such as 10s, 500ms, 1.5m, or a number of seconds' });
    return z.NEVER;
  }
  return s;
});

const role = z.enum(['unified', 'prefill', 'decode', 'router']);

export const killFaultSchema = z
  .object({
    role,
    instance: z.number().int().min(0).default(0).describe('replica index within the role (prefill-1 = 1)'),
    rank: z.number().int().min(0).default(0).describe('node rank within the instance (0 serves HTTP)'),
    signal: z.enum(['KILL', 'TERM']).default('KILL').describe('KILL: the process group dies at once, as on a crash'),
    restartAfterSec: duration.optional().describe('start the same command again after this long (default: stays dead)'),
  })
  .strict();

export const slowDownFaultSchema = z
  .object({
    role: role.exclude(['router']),
    instance: z.number().int().min(0).default(0),
    forSec: duration.default(5).describe('how long the stall lasts; /slow_down is reset afterwards'),
    sleepSec: z.number().positive().default(1).describe('forward_sleep_time sent to /slow_down: extra seconds per forward pass'),
  })
  .strict();

export const cutNodeFaultSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { node: v } : v),
  z
    .object({
      node: z.string().min(1),
      forSec: duration.default(10).describe('how long the node stays cut (its servers are paused, then resumed)'),
    })
    .strict(),
);

export const faultSchema = z
  .object({
    at: duration.describe('when, after the load starts (warmup excluded): 10s, 500ms, or seconds'),
    kill: killFaultSchema.optional(),
    slowDown: slowDownFaultSchema.optional(),
    cutNode: cutNodeFaultSchema.optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const n = [f.kill, f.slowDown, f.cutNode].filter((x) => x !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of kill, slowDown or cutNode' });
  });

export const faultsFields = {
  faults: z.array(faultSchema).min(1).optional().describe('inject faults during the run: kill a rank, stall a server (/slow_down), cut a node'),
  faultAnalysis: z
    .object({
      recoverAfter: z.number().int().min(1).default(5).describe('recovered once this many requests in a row (by start time) succeed'),
      stallMs: z.number().positive().optional().describe('a gap between tokens longer than this is a stall (default: 10 × the median ITL before the fault, at least 500 ms)'),
    })
    .strict()
    .optional(),
};

export type FaultSpec = z.output<typeof faultSchema>;
export type KillFault = z.output<typeof killFaultSchema>;
export type SlowDownFault = z.output<typeof slowDownFaultSchema>;
export type CutNodeFault = z.output<typeof cutNodeFaultSchema>;
