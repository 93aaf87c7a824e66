/**
 * Turns arbitrarily split stream chunks into whole lines. SSH channels and pipes cut output
 * anywhere (mid-line, mid-"\r\n"); a sample must never be parsed from half a line.
 */
export class LineBuffer {
  private tail = '';

  /** a "line" longer than this is garbage (binary output, runaway process): it is dropped, not buffered forever */
  constructor(private readonly maxLineChars = 1 << 20) {}

  /** Feed a chunk; calls `onLine` for every complete line (without its line ending). */
  push(chunk: string, onLine: (line: string) => void): void {
    let text = this.tail + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end));
      start = nl + 1;
    }
    text = text.slice(start);
    // A lone trailing "\r" may be the first half of "\r\n"; keep it with the tail.
    this.tail = text.length > this.maxLineChars ? '' : text;
  }

  /** The unterminated last line, if any (call when the stream ends). */
  flush(onLine: (line: string) => void): void {
    const rest = this.tail.endsWith('\r') ? this.tail.slice(0, -1) : this.tail;
    this.tail = '';
    if (rest.length > 0) onLine(rest);
  }

  get pendingChars(): number {
    return this.tail.length;
  }
}
