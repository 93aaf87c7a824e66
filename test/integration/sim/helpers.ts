/** Reads an SSE body into its `data:` payloads (strings), as bench_serving splits them. */
export async function sseEvents(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
    .map((b) => {
      if (!b.startsWith('data: ')) throw new Error(`not an SSE data line: ${b.slice(0, 80)}`);
      return b.slice('data: '.length);
    });
}

export function json(events: string[]): Record<string, unknown>[] {
  return events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as Record<string, unknown>);
}

export function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Prometheus text -> { "name{labels}": value } */
export function promSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export function sumMetric(samples: Map<string, number>, name: string, labelFilter = ''): number {
  let s = 0;
  for (const [k, v] of samples) if ((k === name || k.startsWith(name + '{')) && k.includes(labelFilter)) s += v;
  return s;
}
