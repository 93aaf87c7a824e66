/**
 * sshd hands every exec's command string to the user's login shell. Our quoting is POSIX; fish
 * reads `\'` inside single quotes as an escaped quote, csh/tcsh refuse newlines inside quotes and
 * expand `!`. So the command must never be parsed by the login shell: these tests run hostile
 * argv, env values, a preamble and the remote supervisor as users whose login shells are bash,
 * dash, zsh, fish and tcsh on real OpenSSH nodes, and check every byte arrives and no payload runs.
 * The last test shows the detector works: the same command sent the old way runs a payload under fish.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { shellCommand } from '../../../src/core/launch/shell/shell-quote';
import { buildExecCommand } from '../../../src/core/launch/shell/remote-command';
import { startRemoteProcess, stopRemoteProcess } from '../../../src/core/launch/shell';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster } from './helpers';

const run = promisify(execFile);

const canaryDir = mkdtempSync(path.join(os.tmpdir(), 'moebench-shell-canary-'));
chmodSync(canaryDir, 0o777);
const canary = path.join(canaryDir, 'pwned');

/** strings that some common login shell acts on when they sit inside POSIX single quotes */
function shellPayloads(c: string): string[] {
  return [
    `x\\'';touch ${c};#`, // fish: \' ends nothing, the next ' closes the quote
    `x\\'(touch ${c})'`, // fish command substitution
    `\\\\'; touch ${c}; echo '`,
    `$(touch ${c})`,
    `\`touch ${c}\``,
    `(touch ${c})`,
    `!touch ${c}`, // csh history
    `a\nb'\n;touch ${c}`, // csh: newline inside quotes
    `\\\n;touch ${c}`,
    `$HOME{touch,${c}}`,
    `'"'"';touch ${c};#`,
    `%1; touch ${c}`,
    `~; touch ${c}`,
    `x\\`,
    `\\`,
    `'`,
    `''`,
    `\r\ntouch ${c}`,
    `é\u202e'; touch ${c}`,
  ];
}

let lab: Lab | undefined;
const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'moebench-shells-'));
chmodSync(scratchRoot, 0o777);

function canaryFiles(): string[] {
  return existsSync(canaryDir) ? readdirSync(canaryDir) : [];
}

describe('remote commands do not depend on the login shell', () => {
  before(async () => {
    lab = await startLab({ nodes: 1 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratchRoot, { recursive: true, force: true });
  });

  const shells = ['bash', 'dash', 'zsh', 'fish', 'tcsh'];
  for (const shell of shells) {
    test(`login shell ${shell}: hostile argv and env values arrive byte for byte, the preamble runs, no payload runs`, async (t) => {
      assert.ok(lab);
      const user = shell === 'bash' ? lab.user : lab.shellUsers[shell];
      if (!user) {
        t.skip(`no ${shell} user in the lab (needs root and the ${shell} package)`);
        return;
      }
      const cluster = await labCluster(lab, [{ name: 'n', host: lab.nodes[0].host, port: lab.nodes[0].port, user, identityFile: lab.identityFile }], undefined, { preamble: "export MB_PRE='pre amble'", workDir: '~' });
      try {
        const who = await cluster.exec('n', ['sh', '-c', 'id -un; ps -o comm= -p $PPID 2>/dev/null || true']);
        assert.equal(who.exitCode, 0, who.stderr);
        assert.equal(who.stdout.split('\n')[0], user);
        const values = shellPayloads(canary);
        // argv: printed NUL-separated by a program that is not a shell
        const r = await cluster.exec('n', ['printf', '%s\\0', ...values]);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.deepEqual(r.stdout.split('\0').slice(0, -1), values);
        // env values
        const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
        const e = await cluster.exec('n', ['env', '-0'], { env });
        assert.ok(e.stdout.split('\0').includes('MB_PRE=pre amble'), `${shell}: the preamble did not run`);
        for (const [k, v] of Object.entries(env)) assert.ok(e.stdout.split('\0').includes(`${k}=${v}`), `${shell}: env ${k} did not arrive as ${JSON.stringify(v)}`);
        // the supervisor's detached start: a model path as the fish report had it
        const out = path.join(scratchRoot, `${shell}.out`);
        const state = await startRemoteProcess(cluster, 'n', {
          deploymentId: `shells-${shell}`,
          name: 'rank-0',
          argv: ['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', values[0], out],
          baseDir: `/tmp/${path.basename(scratchRoot)}/${shell}`,
        });
        for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((res) => setTimeout(res, 25));
        assert.equal(readFileSync(out, 'utf8'), values[0]);
        await stopRemoteProcess(cluster, state, { graceMs: 500 });
        assert.deepEqual(canaryFiles(), [], `${shell}: a payload ran`);
      } finally {
        await cluster.dispose();
      }
    });
  }

  test('the detector works: the same command line handed straight to a fish login shell runs a payload', async (t) => {
    assert.ok(lab);
    const fishUser = lab.shellUsers.fish;
    if (!fishUser) {
      t.skip('no fish user in the lab');
      return;
    }
    const value = `x\\'';touch ${canary}-fish;#`;
    // what we used to send: POSIX quoting, parsed by the login shell
    const oldCommand = buildExecCommand({ argv: ['printf', '%s', value] });
    assert.ok(oldCommand.includes(shellCommand([value])));
    await run('ssh', ['-F', lab.sshConfigPath, '-o', `User=${fishUser}`, '-o', 'BatchMode=yes', lab.nodes[0].name, oldCommand]).catch(() => undefined);
    for (let i = 0; i < 40 && !canaryFiles().length; i++) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(canaryFiles(), ['pwned-fish']);
    rmSync(`${canary}-fish`, { force: true });
  });
});
