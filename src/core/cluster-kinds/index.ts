import { z } from 'zod';
import type { ClusterKindEntry } from '../launch/kind';
import { localKind } from '../launch/local/kind';
import { sshKind } from '../launch/ssh/kind';
import { slurmKind } from '../launch/slurm/kind';
import { simKind } from '../sim/kind';

/**
 * The cluster kinds: the one list. The cluster cell, `moebench plan` and the language server read
 * it. Adding a kind (a scheduler, a container platform): its folder with a kind.ts
 * (schema, create, preview) and a Launcher if the shell supervisor does not fit, plus one line here.
 */
export const CLUSTER_KINDS = [localKind, simKind, sshKind, slurmKind] as const;

type Spec<K> = K extends ClusterKindEntry<infer S> ? S : never;
export type ClusterSpec = Spec<(typeof CLUSTER_KINDS)[number]>;

export const clusterSpecSchema = z.discriminatedUnion(
  'kind',
  CLUSTER_KINDS.map((k) => k.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<ClusterSpec>;

/** the entry of a kind, taking any spec of the union (the entry checks its own kind's fields) */
export function clusterKind(kind: string): ClusterKindEntry<ClusterSpec> | undefined {
  return (CLUSTER_KINDS as readonly unknown[] as readonly ClusterKindEntry<ClusterSpec>[]).find((k) => k.kind === kind);
}
