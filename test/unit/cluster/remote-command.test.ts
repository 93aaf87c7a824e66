import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildExecCommand, buildKillGroupCommand, PGID_MARKER, PgidMarkerFilter } from '../../../src/core/launch/shell/remote-command';
import { hostileStrings } from './hostile-strings';

/** The exec wrapper as the remote login shell (bash or dash) would run it, here locally. */
describe('remote command wrapper', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-rc-'));
  const canary = path.join(dir, 'canary');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (shell: string, command: string): { stdout: string; stderr: string; status: number | null } => {
    const r = spawnSync(shell, ['-c', command], { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };

  for (const shell of ['sh', 'bash']) {
    it(`${shell}: argv and env arrive intact, the pgid comes first on stderr, the exit code passes through`, () => {
      const hostile = hostileStrings(canary);
      const r = run(shell, buildExecCommand({ argv: ['sh', '-c', 'printf "%s\\0" "$@"; printf "%s" "$V" >&2; exit 3', 'sh', ...hostile], env: { V: hostile[3] } }));
      assert.equal(r.status, 3);
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), hostile);
      const m = new RegExp(`^${PGID_MARKER}(\\d+)\\n(.*)$`, 's').exec(r.stderr);
      assert.ok(m, r.stderr);
      assert.equal(m[2], hostile[3]);
      assert.equal(existsSync(canary), false);
    });
  }

  it('runs the preamble first in the same shell and refuses to go on when it fails', () => {
    const ok = run('sh', buildExecCommand({ argv: ['sh', '-c', 'echo "$X"'], preamble: 'export X=activated', cwd: dir }));
    assert.equal(ok.stdout, 'activated\n');
    const bad = run('sh', buildExecCommand({ argv: ['echo', 'never'], preamble: 'false' }));
    assert.equal(bad.status, 125);
    assert.equal(bad.stdout, '');
  });

  it('kills a whole process group, TERM then KILL', () => {
    const child = spawnSync('bash', ['-c', 'setsid bash -c \'(trap "" TERM; sleep 30) & sleep 31 & wait\' </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const pgid = Number(child.stdout.trim());
    execFileSync('sleep', ['0.2']);
    const r = run('sh', buildKillGroupCommand(pgid, 300));
    assert.equal(r.status, 0);
    const left = spawnSync('sh', ['-c', `ps -eo pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/'`], { encoding: 'utf8' }).stdout;
    assert.equal(left, '');
    assert.throws(() => buildKillGroupCommand(1, 100), RangeError);
  });

  it('strips the marker from stderr however the chunks fall, passing .bashrc noise through', () => {
    const text = `motd line\npartial${PGID_MARKER}4242\nreal error\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      let pgid = 0;
      let out = '';
      const f = new PgidMarkerFilter((p) => (pgid = p), (c) => (out += c));
      f.push(text.slice(0, cut));
      f.push(text.slice(cut));
      f.flush();
      assert.equal(pgid, 4242, `cut at ${cut}`);
      assert.equal(out, 'motd line\npartialreal error\n', `cut at ${cut}`);
    }
  });
});
