import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIM_HEADER } from './wire/respond';
import { WireError, validationError } from './wire/errors';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Reads a request body as text (bounded). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new WireError(413, { detail: 'Request Entity Too Large' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** JSON body; an empty body is `{}` like FastAPI's optional bodies, bad JSON is SGLang's 400 */
export async function readJson(req: IncomingMessage, emptyAs: unknown = {}): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return emptyAs;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw validationError(`[{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': '${detail.replace(/'/g, '"')}'}}]`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), [SIM_HEADER]: 'true', ...extraHeaders });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), [SIM_HEADER]: 'true' });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0, [SIM_HEADER]: 'true' });
  res.end();
}

export function sendWireError(res: ServerResponse, err: WireError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.body);
}

export function queryParam(url: string, name: string): string | null {
  const q = url.indexOf('?');
  if (q < 0) return null;
  return new URLSearchParams(url.slice(q + 1)).get(name);
}

export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
