import { assertEnvName, shellCommand } from './shell-quote';

/**
 * The command line an SSH exec sends. The user's argv, env values, cwd and preamble travel as
 * positional arguments of a fixed bash script, quoted by `shellCommand`; none is pasted into
 * script text. The script runs in a new session (`setsid -w`, which also forwards the exit code)
 * and first reports its process group id on stderr, so a cancel can kill the whole group from
 * a second channel: OpenSSH refuses channel signals for root logins.
 *
 * The script has no newlines. It reaches the node through `LOGIN_SHELL_COMMAND`, so the user's
 * login shell (fish, tcsh...) never parses it; POSIX `/bin/sh` does.
 */
export const PGID_MARKER = '@@moebench-pgid ';

/**
 * What sshd actually hands to the user's login shell for every exec: a fixed string that every
 * common login shell (bash, dash, zsh, ksh, fish, tcsh, csh) reads the same way. It holds no
 * backslash (fish reads `\'` inside single quotes as an escaped quote), no `!` (csh history), no
 * newline (csh refuses one inside quotes) and no user data at all. The real command, built with
 * POSIX quoting by `shellCommand`, travels on the channel's stdin and is read whole by `/bin/sh`
 * before anything runs, so the login shell never parses a byte of it; the command then sees EOF
 * on stdin, as before.
 */
export const LOGIN_SHELL_COMMAND = `exec /bin/sh -c 'eval "$(cat)"'`;

const EXEC_SCRIPT = [
  `printf '%s%s\\n' '${PGID_MARKER}' "$$" >&2`,
  'p=$1; d=$2; shift 2',
  // `~` is not expanded inside quotes; do it for the cwd as a user would expect
  'case $d in "~") d=$HOME;; "~/"*) d=$HOME/${d#"~/"};; esac',
  'if [ -n "$d" ]; then cd -- "$d" || exit 126; fi',
  // the preamble is shell the user wrote on purpose (source venv/bin/activate); it runs on its own
  'if [ -n "$p" ]; then eval "$p" || { r=$?; echo "moebench: the cluster preamble failed with exit code $r" >&2; exit 125; }; fi',
  'exec "$@"',
].join('; ');

export interface RemoteExecSpec {
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  preamble?: string;
}

export function buildExecCommand(spec: RemoteExecSpec): string {
  const envArgs: string[] = [];
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    assertEnvName(name);
    envArgs.push(`${name}=${value}`);
  }
  const argv = envArgs.length > 0 ? ['env', ...envArgs, ...spec.argv] : [...spec.argv];
  return shellCommand(['setsid', '-w', 'bash', '-c', EXEC_SCRIPT, 'moebench-exec', spec.preamble ?? '', spec.cwd ?? '', ...argv]);
}

// bash, not sh: dash's kill builtin rejects `--` before a negative pgid.
// zombies do not count as alive (see GROUP_ALIVE in scripts.ts)
const KILL_GROUP_SCRIPT = [
  'g=$1; n=$2',
  `alive() { kill -0 -- "-$g" 2>/dev/null && ps -e -o pgid= -o stat= | awk -v g="$g" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }`,
  'kill -TERM -- "-$g" 2>/dev/null || exit 0',
  'i=0',
  'while alive; do i=$((i+1)); if [ "$i" -gt "$n" ]; then kill -KILL -- "-$g" 2>/dev/null; exit 0; fi; sleep 0.1; done',
].join('; ');

/** TERM the process group, then KILL it if anything is left after `graceMs`. */
export function buildKillGroupCommand(pgid: number, graceMs: number): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`refusing to kill process group ${pgid}`);
  return shellCommand(['bash', '-c', KILL_GROUP_SCRIPT, 'moebench-kill', String(pgid), String(Math.max(1, Math.ceil(graceMs / 100)))]);
}

/**
 * Removes the pgid marker line from the stderr stream and reports the pgid. Lines the login shell
 * printed before it (a chatty .bashrc) pass through; chunks may split the marker anywhere.
 */
export class PgidMarkerFilter {
  private buffer = '';
  private found = false;
  private static readonly GIVE_UP_BYTES = 64 * 1024;

  constructor(
    private readonly onPgid: (pgid: number) => void,
    private readonly forward: (chunk: string) => void,
  ) {}

  push(chunk: string): void {
    if (this.found) {
      this.forward(chunk);
      return;
    }
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const at = line.indexOf(PGID_MARKER);
      if (at >= 0) {
        this.found = true;
        // a .bashrc that printed without a final newline shares the marker's line
        if (at > 0) this.forward(line.slice(0, at));
        const pgid = Number(line.slice(at + PGID_MARKER.length));
        if (Number.isInteger(pgid) && pgid > 1) this.onPgid(pgid);
        if (this.buffer) this.forward(this.buffer);
        this.buffer = '';
        return;
      }
      this.forward(`${line}\n`);
    }
    if (this.buffer.length > PgidMarkerFilter.GIVE_UP_BYTES) this.flush();
  }

  /** end of stream: whatever is held is user output */
  flush(): void {
    if (this.buffer) this.forward(this.buffer);
    this.buffer = '';
    this.found = true;
  }
}
