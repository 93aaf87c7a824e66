import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);

const DOTTED = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$/;

/** `sweep:` of a bench spec: deploy every combination of server settings, run the load on each. */
export const sweepSchema = z
  .object({
    deployment: z.string().min(1).describe('the deploy cell (its name:) whose spec each matrix cell starts from'),
    matrix: z
      .record(z.string(), z.array(scalar).min(1))
      .superRefine((m, ctx) => {
        const keys = Object.keys(m);
        if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'give at least one deploy field to vary' });
        for (const k of keys) {
          if (!DOTTED.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not a dotted deploy-spec path such as moe.eplb or decode.parallel.tp` });
        }
      })
      .describe('dotted deploy-spec paths -> the values to try; every combination is deployed'),
    keepLast: z.boolean().default(false).describe('leave the last matrix cell deployed (default: every cell is torn down)'),
  })
  .strict();

export const sweepFields = {
  sweep: sweepSchema.optional().describe('server-configuration sweep: redeploy for each combination and compare'),
};

export type SweepSpec = z.output<typeof sweepSchema>;
