/** Keeps the last `limit` characters of a growing text (the tail of a log is what users need). */
export class TailText {
  private text = '';
  constructor(private readonly limit: number) {}

  push(chunk: string): void {
    this.text += chunk;
    // trim in amortised steps, not on every chunk
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }

  value(): string {
    return this.text.length > this.limit ? this.text.slice(-this.limit) : this.text;
  }
}
