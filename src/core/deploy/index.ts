/** Launching planned deployments on any cluster: start, watch, stop, re-attach. */
export { Deployment, summarizeStop, type DeploymentOptions, type DeployStartOptions, type StartResult, type StopReport } from './deployment';
export { DeploymentFailedError } from './errors';
export { asLaunched, launchedDeployment, reattachDeployments, sessionDeployments, type ReattachResult } from './reattach';
export { deploymentsDir, recordPath, parseDeploymentRecord, saveDeploymentRecord, listDeploymentRecords, removeDeploymentRecord, type DeploymentRecord } from './record';
export { previewDoc, statusDoc, stopDoc, failureDoc, progressDoc } from './docs';
export { checkNodeGpus, describeGpuCheck, parseComputeAppRows, COMPUTE_APPS_QUERY, type GpuCheck } from './gpu-check';
export { oneTokenGenerate, probeHealth } from './http-probe';
export { endpointProcess, listenHost } from './listen-host';
export type { DeploymentPhase, DeploymentView, ProcessPhase, ProcessView } from './types';
