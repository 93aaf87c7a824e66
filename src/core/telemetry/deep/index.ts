/**
 * Deep telemetry (issue 11): DCGM profiling counters with an nvidia-smi fallback, InfiniBand /
 * RoCE port bandwidth, SGLang scheduler log lines as per-rank series, profiler capture.
 */
export { startDeepTelemetry, DEEP_COLLECT_KINDS, type DeepCollectKind, type DeepTelemetry, type DeepTelemetryOptions, type DeepTelemetryResult, type DeepOverhead } from './deep-telemetry';
export { DeepTelemetryState, GPU_DEEP_METRICS, SCHED_METRICS } from './state';
export { GpuDeepCollector, type GpuDeepCollectorOptions } from './gpu-deep-collector';
export { DCGM_FIELDS, DCGM_FIELD_IDS, dcgmDmonArgv, dcgmUnavailableReason } from './dcgm/fields';
export { DcgmDmonParser } from './dcgm/parse';
export { parseNvlinkCounters, nvlinkRates, nvlinkLoopArgv } from './nvsmi/nvlink-counters';
export { DmonPcieParser, dmonPcieArgv } from './nvsmi/dmon-pcie';
export { NicCollector, type NicCollectorOptions } from './ib/collector';
export { IB_LOOP_SCRIPT, IB_SYSFS_ROOT_ENV, ibLoopArgv, parseCounterLine, portRates } from './ib/counters';
export { nicGpuMap } from './ib/nic-map';
export { parseSchedulerLogLine, rankLabel } from './sglang-log/parse';
export { SGLANG_LOG_FORMAT_VERSIONS } from './sglang-log/formats';
export { SchedulerLogConsumer, type LogSource } from './sglang-log/consumer';
export { SchedulerLogFollower, type LogProcess } from './sglang-log/follow';
export { startProfile, stopProfile, profileRequestBody, ProfileError, type ProfileRequest } from './profile/api';
export { kernelStats, kernelCategory, readTraceEvents, rankFromTraceName } from './profile/chrome-trace';
export { listTraceFiles, fetchRemoteFile, copyTracesToRun } from './profile/collect';
export { captureProfile, type ProfileTarget, type ProfileCaptureOptions, type ProfileCaptureResult } from './profile/capture';
export { profileDocBlocks, profileSplitTable, topKernelsTable } from './profile/report';
export { nsysProfileArgv, type NsysOptions } from './profile/nsys';
