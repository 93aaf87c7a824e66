import { request } from 'node:http';
import type { Plan } from '../plan';
import { engineOf } from '../engines';
import { CancelledError } from '../util/errors';

/**
 * The two questions a launcher asks a server: "are you up?" (`/health`) and "can you answer?"
 * (a one-token generate). Plain node:http without keep-alive, so no socket outlives a probe.
 */

export interface HttpReply {
  status: number;
  body: string;
}

export function httpRequest(url: string, options: { method?: 'GET' | 'POST'; json?: unknown; timeoutMs: number; signal?: AbortSignal }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CancelledError());
      return;
    }
    const u = new URL(url);
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const req = request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || 80),
        path: `${u.pathname}${u.search}`,
        method: options.method ?? (body ? 'POST' : 'GET'),
        agent: false,
        headers: { connection: 'close', ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        timeout: options.timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          // a probe needs the start of the body only
          if (text.length < 64 * 1024) text += c;
        });
        res.on('end', () => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, body: text });
        });
        res.on('error', (err) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(err);
        });
      },
    );
    const onAbort = (): void => {
      req.destroy(new CancelledError());
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)));
    req.on('error', (err) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(options.signal?.aborted ? new CancelledError() : err);
    });
    req.end(body);
  });
}

export type ProbeResult = { ok: true; status: number } | { ok: false; status?: number; detail: string };

export async function probeHealth(baseUrl: string, healthPath: string, signal?: AbortSignal, timeoutMs = 5000): Promise<ProbeResult> {
  try {
    const r = await httpRequest(`${baseUrl}${healthPath}`, { timeoutMs, signal });
    return r.status === 200 ? { ok: true, status: r.status } : { ok: false, status: r.status, detail: `HTTP ${r.status} ${r.body.slice(0, 200).trim()}`.trim() };
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

export type GenerateResult = { ok: true; text: string; latencyMs: number } | { ok: false; status?: number; detail: string };

const PROMPT = 'The capital of France is';

/** One greedy token through the endpoint: SGLang's native /generate, or vLLM's /v1/completions. */
export async function oneTokenGenerate(baseUrl: string, plan: Pick<Plan, 'engine' | 'paths'>, signal?: AbortSignal, timeoutMs = 60_000): Promise<GenerateResult> {
  const t0 = Date.now();
  try {
    const engine = engineOf(plan.engine.kind);
    let model: string | undefined;
    if (engine.probeNeedsModel) {
      const models = await httpRequest(`${baseUrl}/v1/models`, { timeoutMs, signal });
      model = modelId(models.body);
      if (models.status !== 200 || !model) return { ok: false, status: models.status, detail: `GET /v1/models: HTTP ${models.status} ${models.body.slice(0, 200)}` };
    }
    const reply = await httpRequest(`${baseUrl}${plan.paths.generate}`, { json: engine.probeBody(PROMPT, model), timeoutMs, signal });
    if (reply.status !== 200) return { ok: false, status: reply.status, detail: `HTTP ${reply.status} ${reply.body.slice(0, 300).trim()}` };
    return { ok: true, text: generatedText(reply.body), latencyMs: Date.now() - t0 };
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

function modelId(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as { data?: { id?: unknown }[] };
    const id = j.data?.[0]?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function generatedText(body: string): string {
  try {
    const j = JSON.parse(body) as { text?: unknown; choices?: { text?: unknown }[] };
    if (typeof j.text === 'string') return j.text;
    const c = j.choices?.[0]?.text;
    return typeof c === 'string' ? c : '';
  } catch {
    return '';
  }
}
