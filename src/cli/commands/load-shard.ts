/**
 * `moebench load-shard` (hidden): one client node's part of a multi-node load run, started by the
 * run's owner over SSH (src/core/load/remote-shards.ts). Newline-delimited JSON on stdin (config,
 * clock pings, start, abort) and stdout (protocol only, see shard-protocol.ts); logs on stderr.
 */
import { ShardNode } from '../../core/load/shard-node';
import { decodeMessage, encodeMessage, LineSplitter, type OwnerMessage } from '../../core/load/shard-protocol';

export async function loadShardCommand(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stderr.write('moebench load-shard takes no arguments: it is started by a bench cell with `clients:` and reads its configuration on stdin\n');
    return 2;
  }
  const node = new ShardNode({
    send: (m) => void process.stdout.write(encodeMessage(m)),
    log: (text) => void process.stderr.write(text),
  });
  const lines = new LineSplitter((line) => {
    let m: OwnerMessage;
    try {
      m = decodeMessage<OwnerMessage>(line);
    } catch {
      process.stderr.write(`load-shard: ignoring a line that is not JSON: ${line.slice(0, 80)}\n`);
      return;
    }
    node.receive(m);
  });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => lines.push(chunk));
  process.stdin.on('end', () => node.inputEnded());
  const code = await node.exitCode;
  // everything written reaches the pipe before main() calls process.exit
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  return code;
}
