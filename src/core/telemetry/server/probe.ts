/** Small GETs against the target for provenance (server_info, models); never fatal. */

export async function getJson(url: string, timeoutMs = 5000, headers: Record<string, string> = {}): Promise<unknown> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return (await res.json()) as unknown;
  } catch {
    return undefined;
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** SGLang renamed /get_server_info to /server_info; try the new name, then the old */
export async function fetchServerInfo(baseUrl: string, headers?: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  for (const p of ['/server_info', '/get_server_info']) {
    const v = await getJson(baseUrl.replace(/\/+$/, '') + p, 5000, headers);
    if (isObj(v)) return v;
  }
  return undefined;
}

/** the first served model id from /v1/models, as bench_serving does when --model is unset */
export async function fetchModelId(baseUrl: string, headers?: Record<string, string>): Promise<string | undefined> {
  const v = await getJson(baseUrl.replace(/\/+$/, '') + '/v1/models', 5000, headers);
  const data = isObj(v) ? v['data'] : undefined;
  const first: unknown = Array.isArray(data) ? data[0] : undefined;
  return isObj(first) && typeof first['id'] === 'string' ? first['id'] : undefined;
}

/**
 * The model path the server reports: /get_model_info (/model_info on newer SGLang) answers
 * {"model_path": ...}. For naming runs against the native /generate API, which takes no model field.
 */
export async function fetchModelPath(baseUrl: string, headers?: Record<string, string>): Promise<string | undefined> {
  for (const p of ['/get_model_info', '/model_info']) {
    const v = await getJson(baseUrl.replace(/\/+$/, '') + p, 5000, headers);
    if (isObj(v) && typeof v['model_path'] === 'string') return v['model_path'];
  }
  return undefined;
}

/**
 * bench_serving's "Accept length": internal_states[0].avg_spec_accept_length of /server_info,
 * behind a PD router the decode server's (`decode[0]`).
 */
export function acceptLengthOf(info: Record<string, unknown> | undefined): number | null {
  if (!info) return null;
  const decode = info['decode'];
  const src = Array.isArray(decode) && isObj(decode[0]) ? decode[0] : info;
  const states = src['internal_states'];
  const s0: unknown = Array.isArray(states) ? states[0] : undefined;
  const v = isObj(s0) ? s0['avg_spec_accept_length'] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function engineVersionOf(info: Record<string, unknown> | undefined): string | undefined {
  if (!info) return undefined;
  const decode = info['decode'];
  const src = Array.isArray(decode) && isObj(decode[0]) ? decode[0] : info;
  return typeof src['version'] === 'string' ? src['version'] : undefined;
}
