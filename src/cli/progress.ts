/** CLI progress: one live line on a TTY, plain lines otherwise (CI logs). */
export class Progress {
  private current: { label: string; startMs: number; status: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private count = 0;
  private lastPlainStatusMs = 0;
  /** in plain (non-TTY) output, a status line at most this often: CI logs stay readable */
  private static readonly PLAIN_STATUS_INTERVAL_MS = 5000;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  start(label: string): void {
    this.count++;
    this.current = { label, startMs: Date.now(), status: '' };
    if (this.tty) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    } else {
      this.out.write(`[${this.count}/${this.total}] ${label}: running\n`);
    }
  }

  status(text: string): void {
    if (!this.current) return;
    this.current.status = text;
    if (this.tty) return;
    const now = Date.now();
    if (now - this.lastPlainStatusMs < Progress.PLAIN_STATUS_INTERVAL_MS) return;
    this.lastPlainStatusMs = now;
    this.out.write(`[${this.count}/${this.total}] ${this.current.label}: ${text}\n`);
  }

  log(text: string): void {
    if (this.tty) this.clearLine();
    this.out.write(text.endsWith('\n') ? text : text + '\n');
    if (this.tty) this.draw();
  }

  end(label: string, state: string, durationMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.clearLine();
    const mark = state === 'succeeded' ? 'ok' : state === 'skipped' ? 'skipped' : state.toUpperCase();
    this.out.write(`[${this.count}/${this.total}] ${label}: ${mark} (${(durationMs / 1000).toFixed(1)} s)\n`);
    this.current = undefined;
  }

  private clearLine(): void {
    this.out.write('\r\x1b[2K');
  }

  private draw(): void {
    if (!this.current) return;
    const secs = ((Date.now() - this.current.startMs) / 1000).toFixed(0);
    const line = `[${this.count}/${this.total}] ${this.current.label} … ${secs}s ${this.current.status}`;
    this.clearLine();
    this.out.write(line.slice(0, (this.out.columns || 100) - 1));
  }
}
