/** Splits a chunked text stream into whole lines (the last partial line waits for more). */
export class LineSplitter {
  private partial = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
      this.onLine(text.slice(start, text.charCodeAt(i - 1) === 13 ? i - 1 : i));
      start = i + 1;
    }
    this.partial = text.slice(start);
  }

  /** emit what is left (end of stream) */
  flush(): void {
    if (this.partial !== '') {
      const p = this.partial;
      this.partial = '';
      this.onLine(p);
    }
  }
}
