import { MoeBenchError } from '../../../util/errors';

/**
 * SGLang's torch-profiler control (http_server.py `/start_profile`, `/stop_profile`; body
 * `ProfileReqInput{output_dir, start_step, num_steps, activities, with_stack, record_shapes,
 * profile_by_stage, merge_profiles}`, see reference/sglang-api-bench.md §1). The server writes
 * one Chrome trace per rank, `<output_dir>/<id>-TP-<rank>.trace.json.gz` (newer builds add
 * `-DP-<d>-EP-<e>`), on the rank's own node. Without `output_dir` it uses
 * SGLANG_TORCH_PROFILER_DIR, default /tmp.
 */
export interface ProfileRequest {
  outputDir?: string;
  /** stop by itself after this many forward steps (then /stop_profile is not needed) */
  numSteps?: number;
  startStep?: number;
  /** default ["CPU", "GPU"]; "CUDA_PROFILER" toggles cudaProfilerStart/Stop for `nsys --capture-range=cudaProfilerApi` */
  activities?: ('CPU' | 'GPU' | 'MEM' | 'CUDA_PROFILER')[];
  withStack?: boolean;
  recordShapes?: boolean;
  profileByStage?: boolean;
}

export class ProfileError extends MoeBenchError {}

export function profileRequestBody(r: ProfileRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (r.outputDir !== undefined) body.output_dir = r.outputDir;
  if (r.numSteps !== undefined) body.num_steps = r.numSteps;
  if (r.startStep !== undefined) body.start_step = r.startStep;
  body.activities = r.activities ?? ['CPU', 'GPU'];
  if (r.withStack !== undefined) body.with_stack = r.withStack;
  if (r.recordShapes !== undefined) body.record_shapes = r.recordShapes;
  if (r.profileByStage !== undefined) body.profile_by_stage = r.profileByStage;
  return body;
}

async function post(url: string, body: unknown, what: string, endpoint: string, signal?: AbortSignal): Promise<string> {
  const signals = [AbortSignal.timeout(120_000)];
  if (signal) signals.push(signal);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.any(signals) });
  const text = await res.text();
  if (!res.ok) {
    throw new ProfileError(`${what} failed on ${endpoint}: HTTP ${res.status} ${text.trim().slice(0, 300)}`, {}, 'Check that the server has SGLANG_TORCH_PROFILER_DIR set (or pass outputDir) and that no other profile is running.');
  }
  return text;
}

export function startProfile(baseUrl: string, r: ProfileRequest, o: { endpoint?: string; signal?: AbortSignal } = {}): Promise<string> {
  return post(`${baseUrl.replace(/\/+$/, '')}/start_profile`, profileRequestBody(r), 'start_profile', o.endpoint ?? baseUrl, o.signal);
}

export function stopProfile(baseUrl: string, o: { endpoint?: string; signal?: AbortSignal } = {}): Promise<string> {
  return post(`${baseUrl.replace(/\/+$/, '')}/stop_profile`, {}, 'stop_profile', o.endpoint ?? baseUrl, o.signal);
}
