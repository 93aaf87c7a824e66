import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { CellContext } from '../../../src/core/exec/cell';
import { headlessHost } from '../../../src/core/host';
import type { CellEvent } from '../../../src/core/exec/events';
import type { Session } from '../../../src/core/exec/session';
import type { OutputDoc } from '../../../src/core/output/doc';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'deploy');

export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** Everything a cell emitted, with helpers to read it the way a user would. */
export class Events {
  readonly all: CellEvent[] = [];
  readonly sink = (e: CellEvent): void => void this.all.push(e);
  logText(): string {
    return this.all.flatMap((e) => (e.kind === 'log' ? [e.text] : [])).join('');
  }
  /** the latest doc with this id */
  doc(id: string): OutputDoc | undefined {
    return this.all.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc' && e.id === id).pop()?.doc;
  }
  docText(id: string): string {
    return JSON.stringify(this.doc(id) ?? null);
  }
}

export function cellContext(session: Session, events: Events, signal: AbortSignal = new AbortController().signal, name = 'deploy'): CellContext {
  return { session, cell: { index: 1, name, language: 'moebench-deploy' }, emit: events.sink, signal, host: headlessHost() };
}

/** live (non-zombie) processes in these process groups, from ps on this machine */
export function liveInGroups(pgids: readonly number[]): string[] {
  const want = new Set(pgids);
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => {
      const [, pgid, stat] = l.split(/\s+/);
      return want.has(Number(pgid)) && !stat.startsWith('Z');
    });
}

/** a TCP port free on `host`, at least `span` ports from the next one handed out */
let nextPort = 20000 + (process.pid % 2000) * 10;
export async function freePort(host = '127.0.0.1', span = 10): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const p = nextPort;
    nextPort += span;
    if (nextPort > 60000) nextPort = 20000;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(p, host, () => srv.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free port');
}
