// replaced at bundle time by esbuild's define; falls back for tsx runs
declare const __MOEBENCH_VERSION__: string | undefined;
export const TOOL_VERSION: string = typeof __MOEBENCH_VERSION__ === 'string' ? __MOEBENCH_VERSION__ : '0.0.0-dev';
