import type { OutputDoc } from '../../output/doc';
import { CancelledError, MoeBenchError } from '../../util/errors';
import { batchScript } from './batch';
import { describeEnd, describePending, ENDED_STATES, HOPELESS_PENDING, type NodeDetail, type SlurmCli, type SqueueJob } from './cli';
import { jobNameOf, slotNames, type SlurmSpec } from './spec';

/** the scheduler ended or refused the job: its state and Slurm's reason say why */
export class SlurmJobEndedError extends MoeBenchError {
  constructor(
    message: string,
    readonly jobId: string,
    readonly state: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(message, {}, hint);
  }
}

/** A running allocation: the job, and which Slurm node each of the cluster's node names is. */
export interface Allocation {
  jobId: string;
  /** cluster node name (node1.. or the nodelist's) -> the Slurm node */
  slots: { name: string; host: string; address: string; gpus: number }[];
  /** true when this session submitted it, false when a running job was found again */
  submitted: boolean;
}

export type AllocationEvent = { kind: 'status'; text: string } | { kind: 'doc'; id: string; doc: OutputDoc; persist?: boolean };

const LIVE_STATES = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'REQUEUED', 'RESIZING', 'SUSPENDED']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function queueDoc(spec: SlurmSpec, job: Pick<SqueueJob, 'jobId' | 'state' | 'reason' | 'nodeCount' | 'nodeList' | 'elapsed'>, waitedSec: number): OutputDoc {
  const pending = job.state === 'PENDING';
  const hopeless = pending && HOPELESS_PENDING.has(job.reason);
  return {
    title: `Slurm job ${job.jobId} (${jobNameOf(spec.name)}): ${job.state}${pending ? ` — ${job.reason}` : ''}`,
    blocks: [
      {
        type: 'badges',
        items: [
          { level: pending ? 'warn' : job.state === 'RUNNING' ? 'ok' : 'error', text: job.state },
          ...(hopeless ? [{ level: 'error' as const, text: 'will not start as asked' }] : []),
        ],
      },
      {
        type: 'table',
        columns: ['job', 'state', 'reason', 'nodes', 'nodelist', 'waited'],
        units: [null, null, null, null, null, 's'],
        rows: [[job.jobId, job.state, pending ? describePending(job.reason) : job.reason, job.nodeCount, job.nodeList || '(not allocated)', Math.round(waitedSec)]],
      },
      ...(pending
        ? [
            {
              type: 'text' as const,
              text: hopeless
                ? `Slurm keeps job ${job.jobId} pending, but ${describePending(job.reason)}: it will not start until the request or the partition changes. Cancel the cell (the job is cancelled with it) and change nodes/partition/timeLimit.`
                : `Waiting for Slurm to allocate ${slotNames(spec).length} node${slotNames(spec).length === 1 ? '' : 's'}. Cancel the cell to cancel job ${job.jobId}.`,
            },
          ]
        : []),
    ],
  };
}

/**
 * Submit the allocation (or find this cluster's job still running from before a reload), and
 * wait until it runs, reporting PENDING with Slurm's reason while it waits. Cancelling the wait
 * cancels the job. Returns which Slurm node each node name is.
 */
export async function acquireAllocation(
  spec: SlurmSpec,
  cli: SlurmCli,
  options: { emit?: (e: AllocationEvent) => void; signal?: AbortSignal; logDir: string; maxPollMs?: number },
): Promise<Allocation> {
  const want = slotNames(spec).length;
  const found = (await cli.jobsNamed(jobNameOf(spec.name), options.signal)).filter((j) => LIVE_STATES.has(j.state));
  let jobId: string;
  let submitted = false;
  const existing = found[0];
  if (existing) {
    if (existing.nodeCount !== want) {
      throw new SlurmJobEndedError(
        `Job ${existing.jobId} (${jobNameOf(spec.name)}) is already ${existing.state} with ${existing.nodeCount} nodes; this cluster cell asks ${want}`,
        existing.jobId,
        existing.state,
        existing.reason,
        `Stop what runs on it and cancel it (scancel ${existing.jobId}), or give this cluster cell another name.`,
      );
    }
    jobId = existing.jobId;
    options.emit?.({ kind: 'status', text: `${spec.name}: found job ${jobId} (${existing.state}) from before` });
  } else {
    jobId = await cli.submit(batchScript(spec), options.logDir, options.signal);
    submitted = true;
    options.emit?.({ kind: 'status', text: `${spec.name}: submitted job ${jobId}` });
  }
  const t0 = Date.now();
  let interval = 300;
  let lastKey = '';
  try {
    for (;;) {
      const job = await cli.job(jobId, options.signal);
      if (!job || ENDED_STATES.has(job.state)) {
        const d = await cli.jobDetail(jobId, options.signal);
        const state = job?.state ?? d?.state ?? 'GONE';
        const reason = job?.reason ?? d?.reason ?? '';
        throw new SlurmJobEndedError(`Slurm job ${jobId} ended before it ran: ${describeEnd(state, reason)}`, jobId, state, reason, 'Check the partition, account and limits (scontrol show job), and the batch output in the log directory.');
      }
      if (job.state === 'RUNNING') {
        const allocation = await resolveSlots(spec, cli, jobId, job.nodeList, submitted, options.signal);
        options.emit?.({ kind: 'doc', id: 'slurm-job', doc: queueDoc(spec, job, (Date.now() - t0) / 1000) });
        return allocation;
      }
      const key = `${job.state}|${job.reason}`;
      if (key !== lastKey) {
        lastKey = key;
        options.emit?.({ kind: 'status', text: `${spec.name}: job ${jobId} ${job.state} (${job.reason})` });
      }
      options.emit?.({ kind: 'doc', id: 'slurm-job', doc: queueDoc(spec, job, (Date.now() - t0) / 1000), persist: false });
      await sleep(interval, options.signal);
      interval = Math.min(options.maxPollMs ?? 5000, interval * 1.5);
    }
  } catch (err) {
    if (options.signal?.aborted || err instanceof CancelledError) {
      // a job that never ran (or that we were asked to wait for) goes with the cancelled cell
      const job = await cli.job(jobId).catch(() => undefined);
      await cli.cancel(jobId).catch(() => undefined);
      await waitGone(cli, jobId);
      throw new CancelledError(`Cancelled: Slurm job ${jobId} was cancelled${job ? ` while ${job.state}${job.state === 'PENDING' ? ` (${job.reason})` : ''}` : ''}`);
    }
    throw err;
  }
}

/** which Slurm node each node name is, in hostlist order (or the nodelist's own names) */
async function resolveSlots(spec: SlurmSpec, cli: SlurmCli, jobId: string, nodeList: string, submitted: boolean, signal?: AbortSignal): Promise<Allocation> {
  const hosts = await cli.hostnames(nodeList, signal);
  const details = await cli.nodes(nodeList, signal);
  const detailOf = (h: string): NodeDetail | undefined => details.find((d) => d.name === h);
  const names = slotNames(spec);
  if (hosts.length < names.length) throw new SlurmJobEndedError(`Slurm job ${jobId} runs on ${hosts.length} nodes (${nodeList}), fewer than the ${names.length} asked`, jobId, 'RUNNING', '', 'Cancel it and run the cluster cell again.');
  const slots = names.map((name, i) => {
    const host = spec.nodelist ? name : hosts[i];
    const d = detailOf(host);
    return { name, host, address: d?.address ?? host, gpus: d?.gpus ?? spec.gpusPerNode };
  });
  return { jobId, slots, submitted };
}

/** until squeue no longer shows the job as holding nodes (CANCELLED/COMPLETED, or purged) */
export async function waitGone(cli: SlurmCli, jobId: string, timeoutMs = 60_000): Promise<{ state: string; reason: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  let interval = 200;
  for (;;) {
    const job = await cli.job(jobId).catch(() => undefined);
    if (!job) return undefined;
    if (ENDED_STATES.has(job.state)) return { state: job.state, reason: job.reason };
    if (Date.now() > deadline) throw new MoeBenchError(`Slurm job ${jobId} is still ${job.state} ${Math.round(timeoutMs / 1000)} s after scancel`, {}, `Check it with scontrol show job ${jobId}; a node may be stuck completing.`);
    await sleep(interval);
    interval = Math.min(2000, interval * 1.5);
  }
}
