/**
 * Splits a decoded SSE byte stream into lines. Every line completed by a chunk is stamped with
 * the time that chunk arrived (taken in the socket's 'data' handler, before any JSON parsing), so
 * parse cost never leaks into TTFT or ITL.
 */
export class SseLineSplitter {
  private pending = '';
  private readonly onRange: (text: string, from: number, to: number, atMs: number, read: number) => void;
  /** counts the texts handed out (a new number = a new text; string equality would compare contents) */
  private read = 0;

  /**
   * `onLine` gets each line as a string; `onRange` (the load client's hot path) gets the decoded
   * text and the line's [from, to) in it, so no string is made per line.
   */
  constructor(onLine: ((line: string, atMs: number) => void) | { onRange: (text: string, from: number, to: number, atMs: number, read: number) => void }) {
    this.onRange = typeof onLine === 'function' ? (text, from, to, at) => onLine(from === 0 && to === text.length ? text : text.slice(from, to), at) : onLine.onRange;
  }

  push(chunk: string, atMs: number): void {
    this.read++;
    let from = 0;
    let nl = chunk.indexOf('\n');
    if (this.pending.length) {
      if (nl < 0) {
        this.pending += chunk;
        return;
      }
      // the line carried over from the last read becomes a text of its own; the rest of this
      // read is scanned in place (a concatenated string would be slower to read on every line)
      const first = this.pending + chunk.slice(0, nl);
      this.pending = '';
      this.emit(first, 0, first.length, atMs);
      this.read++;
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    while (nl >= 0) {
      this.emit(chunk, from, nl, atMs);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    this.pending = from < chunk.length ? chunk.slice(from) : '';
  }

  /** a final line without a newline (servers usually end with "\n\n") */
  end(atMs: number): void {
    this.read++;
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
    this.onRange(text, a, b, atMs, this.read);
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

/**
 * The same split on raw bytes (the load client's hot path: no decoding of the whole read). Each
 * line is handed over as `buf[from, to)` (trimmed, non-empty); only the line that spans two
 * reads is copied. UTF-8 is decoded later, per line or per field, where it cannot be cut.
 */
export class SseByteSplitter {
  private pending: Buffer | undefined;

  constructor(private readonly onLine: (buf: Buffer, from: number, to: number, atMs: number) => void) {}

  push(buf: Buffer, from: number, to: number, atMs: number): void {
    let start = from;
    let nl = buf.indexOf(10, start);
    if (nl >= to) nl = -1;
    if (this.pending) {
      if (nl < 0) {
        this.pending = Buffer.concat([this.pending, buf.subarray(from, to)]);
        return;
      }
      const first = Buffer.concat([this.pending, buf.subarray(from, nl)]);
      this.pending = undefined;
      this.emit(first, 0, first.length, atMs);
      start = nl + 1;
      nl = buf.indexOf(10, start);
      if (nl >= to) nl = -1;
    }
    while (nl >= 0) {
      this.emit(buf, start, nl, atMs);
      start = nl + 1;
      nl = buf.indexOf(10, start);
      if (nl >= to) nl = -1;
    }
    if (start < to) this.pending = Buffer.from(buf.subarray(start, to));
  }

  end(atMs: number): void {
    const p = this.pending;
    this.pending = undefined;
    if (p?.length) this.emit(p, 0, p.length, atMs);
  }

  private emit(buf: Buffer, from: number, to: number, atMs: number): void {
    let a = from;
    let b = to;
    while (a < b && buf[a] <= 32) a++;
    while (b > a && buf[b - 1] <= 32) b--;
    if (a < b) this.onLine(buf, a, b, atMs);
  }
}
