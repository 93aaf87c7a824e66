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
export interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  skipped?: number;
  todo?: number;
  cancelled?: number;
  problems: string[];
}
export function judgeNodeSuite(name: string, run: { files: string[]; tap: string; exitCode: number; onlyProblems?: string[] }): SuiteResult;
export function judgeVscodeOutput(output: string, exitCode: number, expected: string[]): SuiteResult[];
