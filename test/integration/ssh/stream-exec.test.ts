/**
 * The streaming exec (client-node load shards talk to their process over its stdin): the command
 * travels on stdin ahead of the caller's data, read by `dd` to its exact length, so the login
 * shell parses only fixed text and everything after the command is the process's own stdin.
 * Checked for login shells bash, dash, zsh, fish and tcsh on real OpenSSH nodes with hostile argv.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster } from './helpers';

const canaryDir = mkdtempSync(path.join(os.tmpdir(), 'moebench-stream-canary-'));
chmodSync(canaryDir, 0o777);
const c = path.join(canaryDir, 'pwned');
const hostile = [`x\\'';touch ${c};#`, `$(touch ${c})`, `\`touch ${c}\``, `!touch ${c}`, `a\nb'\n;touch ${c}`, `'"'"';touch ${c};#`, `é\u202e'; touch ${c}`, `'`, ''];

let lab: Lab | undefined;

describe('streaming exec keeps stdin open under every login shell', () => {
  before(async () => {
    lab = await startLab({ nodes: 1 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(canaryDir, { recursive: true, force: true });
  });

  for (const shell of ['bash', 'dash', 'zsh', 'fish', 'tcsh']) {
    test(`login shell ${shell}: argv arrives byte for byte, the caller's lines reach the process, no payload runs`, async (t) => {
      assert.ok(lab);
      const user = shell === 'bash' ? lab.user : lab.shellUsers[shell];
      if (!user) {
        t.skip(`no ${shell} user in the lab (needs root and the ${shell} package)`);
        return;
      }
      const cluster = await labCluster(lab, [{ name: 'n', host: lab.nodes[0].host, port: lab.nodes[0].port, user, identityFile: lab.identityFile }], undefined, { preamble: "export MB_PRE='pre amble'" });
      try {
        let out = '';
        // prints its argv NUL-separated, the preamble's variable, then echoes two stdin lines back
        const s = await cluster.execStream('n', ['sh', '-c', 'printf "%s\\0" "$@"; printf "%s\\0" "$MB_PRE"; head -n 2', 'sh', ...hostile], { onStdout: (chunk) => (out += chunk) });
        s.write('first line from the owner\n');
        s.write(`${hostile[0]}\n`);
        s.end();
        const r = await s.done;
        assert.equal(r.exitCode, 0, r.stderr);
        const parts = out.split('\0');
        assert.deepEqual(parts.slice(0, hostile.length), hostile);
        assert.equal(parts[hostile.length], 'pre amble');
        assert.equal(parts[hostile.length + 1], `first line from the owner\n${hostile[0]}\n`);
        assert.deepEqual(existsSync(canaryDir) ? readdirSync(canaryDir) : [], [], `${shell}: a payload ran`);
      } finally {
        await cluster.dispose();
      }
    });
  }
});
