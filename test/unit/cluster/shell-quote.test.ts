import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertEnvName, envCommand, quoteArg, shellCommand } from '../../../src/core/launch/shell/shell-quote';
import { UnsafeInputError } from '../../../src/core/util/errors';
import { hostileStrings } from './hostile-strings';

/**
 * The quoting function against real shells: the command line it builds is parsed by dash (sh)
 * and bash, and every argument must arrive byte for byte, with nothing executed.
 */
describe('shellCommand / envCommand with hostile input, run by real shells', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-quote-'));
  const canary = path.join(dir, 'canary');
  after(() => rmSync(dir, { recursive: true, force: true }));
  // printf prints each argument followed by NUL, so any split, join or expansion shows
  const echoArgs = (args: string[]): string[] => ['printf', '%s\\0', ...args];
  const hostile = [...hostileStrings(canary), 'y'.repeat(100_000)];

  for (const shell of ['sh', 'bash']) {
    it(`${shell}: every argument arrives unchanged and nothing runs`, () => {
      const out = execFileSync(shell, ['-c', shellCommand(echoArgs(hostile))], { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      assert.deepEqual(out.split('\0').slice(0, -1), hostile);
      assert.equal(existsSync(canary), false, 'canary file must not exist');
    });

    it(`${shell}: hostile env values arrive unchanged`, () => {
      const env: Record<string, string> = {};
      hostile.forEach((v, i) => (env[`V${i}`] = v));
      const names = Object.keys(env);
      const script = 'for n in "$@"; do printenv "$n"; printf "\\0"; done';
      const out = execFileSync(shell, ['-c', envCommand(env, ['sh', '-c', script, 'sh', ...names])], { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      assert.deepEqual(out.split('\n\0').slice(0, -1), hostile);
      assert.equal(existsSync(canary), false);
    });
  }

  it('leaves plain words readable and quotes everything else', () => {
    assert.equal(shellCommand(['python3', '-m', 'sglang.launch_server', '--tp', '8', '--model-path=/models/DeepSeek-V3']), 'python3 -m sglang.launch_server --tp 8 --model-path=/models/DeepSeek-V3');
    assert.equal(quoteArg(''), `''`);
    assert.equal(quoteArg("it's"), `'it'\\''s'`);
    assert.equal(quoteArg('$HOME'), `'$HOME'`);
  });

  it('refuses NUL bytes, empty commands and invalid env names', () => {
    assert.throws(() => quoteArg('a\0b'), UnsafeInputError);
    assert.throws(() => shellCommand([]), UnsafeInputError);
    for (const bad of ['', '1X', 'A-B', 'A B', 'A=B', 'A;touch x', '$(x)', 'É']) {
      assert.throws(() => assertEnvName(bad), UnsafeInputError, JSON.stringify(bad));
      assert.throws(() => envCommand({ [bad]: 'v' }, ['true']), UnsafeInputError);
    }
    assert.doesNotThrow(() => assertEnvName('_SGLANG_X1'));
  });
});
