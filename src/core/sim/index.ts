/**
 * MoE Bench's SGLang-compatible emulator: HTTP servers speaking SGLang's wire formats with a
 * performance model behind them, a router stand-in, and emulated GPU telemetry.
 */
export type { SimServer, SimServerOptions, SimRouterOptions, SimRole } from './types';
export type { FaultOptions } from './faults';
export type { ServerShape } from './shape';
export { startSimServer, type SimServerHandle } from './server';
export { startSimRouter } from './router';
export { EMIT_FIELD } from './wire/format';
export { SIM_HEADER } from './wire/respond';
export { countTextTokens, countPromptTokens, countChatPromptTokens, textOfTokens, SPECIAL_TOKENS_ADDED } from './tokenizer';
