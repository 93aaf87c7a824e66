/**
 * Turns a benchmark tool's console output into log lines and progress. bench_serving and vllm
 * bench serve draw a tqdm bar on stderr with carriage returns ("37/100 [00:01<00:02, 30.1it/s]");
 * those redraws become progress updates, not hundreds of log lines.
 */
const TQDM = /(\d+)\/(\d+) \[[^\]]*\]\s*$/;

export interface ToolProgress {
  done: number;
  total: number;
}

export class ToolOutputSplitter {
  private pending = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onProgress: (p: ToolProgress) => void,
  ) {}

  push(text: string): void {
    this.pending += text;
    // a line ends at \n; a tqdm redraw ends at \r
    const parts = this.pending.split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    for (const p of parts) this.handle(p);
  }

  end(): void {
    if (this.pending) this.handle(this.pending);
    this.pending = '';
  }

  private handle(line: string): void {
    const m = TQDM.exec(line);
    if (m) {
      this.onProgress({ done: Number(m[1]), total: Number(m[2]) });
      return;
    }
    if (line.trim() !== '') this.onLine(line);
  }
}
