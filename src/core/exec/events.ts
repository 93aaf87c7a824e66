import type { OutputDoc } from '../output/doc';

/**
 * What an executing cell tells the world. The VS Code controller, the CLI and tests are thin
 * consumers of this one stream; nothing in core knows whether a person is watching.
 */
export type CellEvent =
  /** a chunk of log text (not necessarily whole lines); `source` prefixes per node/rank */
  | { kind: 'log'; stream: 'stdout' | 'stderr'; text: string; source?: string }
  /**
   * a rich output. The same `id` replaces the earlier doc in place (live charts); a new id appends.
   * `persist: false` marks live-only docs (progress) that are dropped when the cell ends.
   */
  | { kind: 'doc'; id: string; doc: OutputDoc; persist?: boolean }
  /** a one-line status for status bars / CLI progress lines */
  | { kind: 'status'; text: string };

export type CellEventSink = (event: CellEvent) => void;
