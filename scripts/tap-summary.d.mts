// Types of scripts/tap-summary.mjs (a plain script run by `npm test`, imported by its unit test).
export interface TapSummary {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  cancelled: number;
  tests: number;
  problems: string[];
}
export const ALLOWED_NOT_RUN: Map<string, string>;
export function summarizeTap(text: string, options?: { files?: string[]; allowed?: Map<string, string> }): TapSummary;
export function onlyMarkers(source: string): number[];
