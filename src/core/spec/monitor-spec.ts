import { z } from 'zod';
import { COLLECT_KINDS, type CollectKind } from '../telemetry/run-telemetry';
import { nameSchema } from '../util/name-schema';

const urlSchema = z.string().regex(/^https?:\/\/[^\s/]+/i, 'a URL such as http://127.0.0.1:30000');

export const monitorSpecSchema = z
  .object({
    name: nameSchema.describe('names the monitor run and its output'),
    watch: z
      .array(z.enum(COLLECT_KINDS as [CollectKind, ...CollectKind[]]))
      .min(1)
      .optional()
      .describe('what to collect: gpus (nvidia-smi), serverMetrics (/metrics), experts (expert-load recorder); default gpus, plus serverMetrics with a target'),
    target: z.string().min(1).optional().describe('a deployment name from a deploy cell (its servers and nodes), or a server URL'),
    urls: z.array(urlSchema).min(1).optional().describe('more server URLs to scrape /metrics from'),
    cluster: z.string().min(1).optional().describe('cluster whose GPUs to watch (default: the deployment\'s, or the only cluster)'),
    nodes: z.array(z.string().min(1)).min(1).optional().describe('nodes to watch (default: the deployment\'s nodes, or every node)'),
    intervalMs: z.number().int().min(100).max(60_000).optional().describe('sampling interval (default: the moebench.telemetry.intervalMs setting, 1000)'),
    durationSec: z.number().positive().optional().describe('stop after this long; omit to watch until the cell is stopped'),
    experts: z
      .object({
        epSize: z.number().int().positive().optional().describe("EP size (default: ep_size from the server's /server_info)"),
        dir: z.string().min(1).optional().describe('SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR on the nodes (default /tmp)'),
        python: z.string().min(1).optional().describe('python with torch on the nodes (default python3)'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type MonitorSpec = z.output<typeof monitorSpecSchema>;
