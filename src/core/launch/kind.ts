import type { z } from 'zod';
import type { HostServices } from '../host';
import type { OutputDoc } from '../output/doc';
import type { Cluster, PlanCluster } from './types';

/**
 * One cluster kind (`kind:` of a moebench-cluster cell): its cell schema, how to bring it up, and
 * what the planner may assume before it is up. Each kind lives in its own folder
 * (launch/local, launch/ssh, sim, ...); cluster-kinds/index.ts lists them.
 */
export interface ClusterKindEntry<Spec extends { kind: string; name: string } = { kind: string; name: string }> {
  readonly kind: Spec['kind'];
  /** the cell's schema: a z.object with `kind: z.literal(<kind>)` and clusterCommonFields */
  readonly schema: z.ZodType<Spec>;
  /**
   * bring the cluster up (connect, start emulated nodes, wait for an allocation...); implementations
   * load lazily. `emit` shows progress in the cluster cell (a Slurm job PENDING with its reason);
   * `signal` is the cell's cancellation.
   */
  create(spec: Spec, ctx: { host: HostServices; emit?: (e: CreateEvent) => void; signal?: AbortSignal }): Promise<Cluster>;
  /** the cluster as the planner sees it before it is up (`moebench plan`, the language server) */
  preview(spec: Spec): { cluster: PlanCluster; notes: string[] };
  /**
   * what this kind adds around a deployment's commands, for `moebench plan` (a scheduler's batch
   * script and step commands); kinds that run the commands as they are omit it
   */
  launchPreview?(spec: Spec, plan: LaunchPreviewPlan): string;
}

/** progress a kind's create reports into the cluster cell */
export type CreateEvent = { kind: 'status'; text: string } | { kind: 'doc'; id: string; doc: OutputDoc; persist?: boolean };

/** the part of a deployment plan a launch preview needs */
export interface LaunchPreviewPlan {
  name: string;
  processes: readonly { id: string; node: string; argv: readonly string[]; env: Readonly<Record<string, string>> }[];
}
