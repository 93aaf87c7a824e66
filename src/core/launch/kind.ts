import type { z } from 'zod';
import type { HostServices } from '../host';
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
  /** bring the cluster up (connect, start emulated nodes...); implementations load lazily */
  create(spec: Spec, ctx: { host: HostServices }): Promise<Cluster>;
  /** the cluster as the planner sees it before it is up (`moebench plan`, the language server) */
  preview(spec: Spec): { cluster: PlanCluster; notes: string[] };
}
