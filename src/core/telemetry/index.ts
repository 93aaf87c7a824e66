/**
 * Telemetry: GPU stream (nvidia-smi), server metrics (/metrics), expert load (recorder dumps),
 * one record schema for telemetry.jsonl, energy/cost, and chart builders.
 */
export * from './schema';
export type { TelemetryNotice } from './notice';
export { LineBuffer } from './line-buffer';

export { GpuCollector, type GpuCollectorOptions } from './gpu/collector';
export { GpuStreamAssembler, type GpuStreamOptions } from './gpu/stream';
export { GpuQueryParser, parseGpuQueryCsv, type QueryLine } from './gpu/query-csv';
export { DEFAULT_STREAM_FIELDS, GPU_FIELDS, fieldSpec } from './gpu/fields';
export { clockEventReasons, isThrottled, isThermalThrottled, CLOCK_EVENT_REASONS, type ClockEventReason } from './gpu/throttle';
export { parseGpuInventoryXml, type GpuInventory, type GpuInventoryEntry, type GpuProcessInfo } from './gpu/inventory';
export { parseTopology, nearestNics, type GpuTopology, type TopoLink, type LinkKind } from './gpu/topology';
export { parseComputeApps, findLeakedProcesses, type ComputeApp, type GpuMemoryLeak } from './gpu/compute-apps';
export { gpuStreamArgv, gpuQueryOnceArgv, GPU_INVENTORY_ARGV, GPU_TOPOLOGY_ARGV, COMPUTE_APPS_ARGV, invalidFieldsIn } from './gpu/commands';
export { readGpuInventory, readGpuTopology, checkGpuLeaks } from './gpu/node-queries';
export { XmlParseError } from './gpu/xml';

export { parsePrometheusText, labelsOf, parseLabels, familyType, type PromSample, type PromScrape, type PromType } from './server/prometheus';
export { histogramQuantile, bucketDelta, sumBuckets, type CumulativeBuckets } from './server/histogram';
export { aggregateBy, rankLabelValues, RANK_LABELS } from './server/aggregate';
export { parseServerMetrics, reduceScrape, compareStates, type ServerState } from './server/normalize';
export { ServerMetricsCollector, metricsUrl, type MetricsEndpoint, type ServerMetricsCollectorOptions } from './server/collector';

export { parseExpertDump, ExpertDumpError, type ExpertDump } from './experts/dump';
export { expertDumpConverterArgv, EXPERT_DUMP_CONVERTER_PY } from './experts/dump-converter';
export {
  layerBalancedness,
  balancedness,
  gpuLoadFromPhysical,
  physicalFromLogical,
  logicalFromPhysical,
  expertSnapshot,
  perPassBalancedness,
  compareEplb,
  type EplbComparison,
  type SnapshotOptions,
} from './experts/load';
export { callExpertRecorder, startExpertRecord, stopExpertRecord, dumpExpertRecord, fetchExpertDump, EXPERT_RECORDER_PATHS, type FetchDumpOptions } from './experts/recorder';

export { gpuEnergy, runEfficiency, phaseWindow, type EnergyResult, type RunEfficiency } from './energy';
export { TelemetryRecorder, runDirSink, parseTelemetryJsonl, readTelemetryFile, type TelemetrySink, type TelemetryFile } from './recorder';
export { lttb, minMaxBuckets, bucketMeans, type XY } from './downsample';
export { GpuSeriesStore, ServerSeriesStore, GPU_METRICS, type GpuMetric, type GpuSeries } from './series';
export { gpuTimelinePlot, gpuSmallMultiplesPlot, gpuHeatmapPlot, type TimeChartOptions } from './charts/gpu-charts';
export { serverQueuesPlot, serverLatencyPlot } from './charts/server-charts';
export { expertHeatmapPlot, expertGpuLoadPlot, balancednessPlot } from './charts/expert-charts';
export { phaseBands } from './charts/phases';
