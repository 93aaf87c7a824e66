import type { z } from 'zod';
import { clusterSpecSchema } from '../cells/cluster';
import { benchSpecSchema } from '../cells/bench-spec';
import { reportSpecSchema } from '../cells/report';
import { monitorSpecSchema } from '../cells/monitor';
import { deploySpecSchema } from '../plan';

/** language id -> the zod schema its executor validates with (the one source of truth). */
export function cellSchemas(): Record<string, z.ZodType> {
  return {
    'moebench-cluster': clusterSpecSchema,
    'moebench-deploy': deploySpecSchema,
    'moebench-bench': benchSpecSchema,
    'moebench-report': reportSpecSchema,
    'moebench-monitor': monitorSpecSchema,
  };
}
