import * as vscode from 'vscode';

/** One LogOutputChannel for the extension; each subsystem logs with its component tag. */
let channel: vscode.LogOutputChannel | undefined;

export function logChannel(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('MoE Bench', { log: true });
  return channel;
}

export function logger(component: string): { info(m: string): void; warn(m: string): void; error(m: string): void; trace(m: string): void } {
  const c = (): vscode.LogOutputChannel => logChannel();
  return {
    info: (m) => c().info(`[${component}] ${m}`),
    warn: (m) => c().warn(`[${component}] ${m}`),
    error: (m) => c().error(`[${component}] ${m}`),
    trace: (m) => c().trace(`[${component}] ${m}`),
  };
}

let linesAppended = 0;

/** raw cell output into the channel (the full log behind a capped cell output) */
export function appendCellLog(text: string): void {
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) linesAppended++;
  logChannel().append(text);
}

export function cellLogLines(): number {
  return linesAppended;
}
