export { RunWriter, RunStoreError, newRunId, clientHostInfo, readRunMeta, readRunResult, readRequests, listRuns, serializeRecord } from './run-store';
export { appendTelemetry } from '../telemetry/store';
export { RUN_FILES, RUN_SCHEMA_VERSION, type RunMeta, type RunResultFile } from './types';
