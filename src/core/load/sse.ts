/**
 * Splits a decoded SSE byte stream into lines. Every line completed by a chunk is stamped with
 * the time that chunk arrived (taken in the socket's 'data' handler, before any JSON parsing), so
 * parse cost never leaks into TTFT or ITL.
 */
export class SseLineSplitter {
  private pending = '';

  constructor(private readonly onLine: (line: string, atMs: number) => void) {}

  push(chunk: string, atMs: number): void {
    let text = this.pending.length ? this.pending + chunk : chunk;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      this.pending = text;
      return;
    }
    let from = 0;
    while (nl >= 0) {
      this.emit(text, from, nl, atMs);
      from = nl + 1;
      nl = text.indexOf('\n', from);
    }
    text = from < text.length ? text.slice(from) : '';
    this.pending = text;
  }

  /** a final line without a newline (servers usually end with "\n\n") */
  end(atMs: number): void {
    if (this.pending.length) this.emit(this.pending, 0, this.pending.length, atMs);
    this.pending = '';
  }

  private emit(text: string, from: number, to: number, atMs: number): void {
    // trim \r and blanks at both ends without allocating for the common clean case
    let a = from;
    let b = to;
    while (a < b && text.charCodeAt(a) <= 32) a++;
    while (b > a && text.charCodeAt(b - 1) <= 32) b--;
    if (a === b) return;
    this.onLine(a === 0 && b === text.length ? text : text.slice(a, b), atMs);
  }
}

/** The payload of an SSE data line ("data: {...}" -> "{...}"), or undefined for comments and other fields. */
export function ssePayload(line: string): string | undefined {
  if (line.startsWith('data:')) return line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
  // ":" comments (pings) and event:/id:/retry: fields carry no data
  if (line.charCodeAt(0) === 58 || /^(event|id|retry):/.test(line)) return undefined;
  // bare JSON lines (some proxies strip the "data: " prefix): treat as data, as bench_serving does
  return line;
}
