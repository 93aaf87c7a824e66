/**
 * Fixed bash scripts run on a node through `cluster.exec(['bash', '-c', SCRIPT, name, ...args])`.
 * Everything variable (directory, argv, offsets) arrives as positional arguments, so nothing a
 * user typed is ever part of script text. A process directory holds:
 *   pid        the process group id (= pid of the group's leader, written by the leader itself)
 *   boot_id    the node's boot id at start: after a reboot the pgid means nothing
 *   log        stdout+stderr of the whole group
 *   exit_code  written when the command exits (also after TERM/INT/HUP), absent after KILL
 */

/** `~/x` to `$HOME/x`: quoting keeps the shell from doing it. */
const EXPAND_DIR = 'case $d in "~") d=$HOME;; "~/"*) d=$HOME/${d#"~/"};; esac';

/**
 * Does the group have a live member? Zombies do not count: `kill -0` succeeds on them, and an
 * init that reaps slowly (containers) would make a dead group look alive.
 */
export const GROUP_ALIVE = `group_alive() { kill -0 -- "-$1" 2>/dev/null && ps -e -o pgid= -o stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }`;

/** same boot and group alive; `$g` must be set */
const ALIVE = `${GROUP_ALIVE}; alive() { [ "$(cat "$d/boot_id" 2>/dev/null)" = "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" ] && group_alive "$g"; }`;

/**
 * The group leader: records its pid, runs the command, records the exit code. TERM/INT/HUP are
 * trapped (not ignored, which children would inherit) so the exit code of a stopped command is
 * still written after the command has died.
 */
export const LEADER_SCRIPT = [
  'd=$1; shift',
  'echo $$ > "$d/pid.tmp" && mv -f "$d/pid.tmp" "$d/pid"',
  "trap ':' TERM INT HUP",
  '"$@"',
  'rc=$?',
  'echo "$rc" > "$d/exit_code.tmp" && mv -f "$d/exit_code.tmp" "$d/exit_code"',
].join('\n');

/** args: dir leader-script argv... ; prints the pgid */
export const START_SCRIPT = [
  'd=$1; leader=$2; shift 2',
  EXPAND_DIR,
  'mkdir -p -- "$d" || exit 1',
  ALIVE,
  'if [ -s "$d/pid" ]; then g=$(cat "$d/pid"); if alive; then echo "moebench: already running as process group $g in $d" >&2; exit 17; fi; fi',
  'rm -f -- "$d/pid" "$d/pid.tmp" "$d/exit_code" "$d/exit_code.tmp"',
  ': > "$d/log"',
  'cat /proc/sys/kernel/random/boot_id > "$d/boot_id" 2>/dev/null || : > "$d/boot_id"',
  // setsid: own session and process group, no controlling terminal, survives the connection;
  // all three fds redirected, or the exec channel would stay open until the server exits
  'setsid bash -c "$leader" moebench-proc "$d" "$@" </dev/null >>"$d/log" 2>&1 &',
  'i=0; while [ ! -s "$d/pid" ]; do i=$((i+1)); if [ $i -gt 400 ]; then echo "moebench: the process did not start" >&2; exit 1; fi; sleep 0.025; done',
  'cat "$d/pid"',
].join('\n');

/** args: dir ; prints `state=running|exited|gone`, `exit_code=N`, `log_bytes=N` */
export const STATUS_SCRIPT = [
  'd=$1',
  EXPAND_DIR,
  ALIVE,
  'g=$(cat "$d/pid" 2>/dev/null)',
  'if [ -n "$g" ] && alive; then echo state=running',
  'elif [ -f "$d/exit_code" ]; then echo state=exited; echo "exit_code=$(cat "$d/exit_code")"',
  'else echo state=gone; fi',
  'if [ -f "$d/log" ]; then echo "log_bytes=$(wc -c < "$d/log")"; fi',
].join('\n');

/**
 * args: dir grace-tenths ; TERM the group, wait, KILL, verify. Prints `not-running`,
 * `terminated` or `killed`; exits 3 if something survived KILL.
 */
export const STOP_SCRIPT = [
  'd=$1; n=$2',
  EXPAND_DIR,
  ALIVE,
  'g=$(cat "$d/pid" 2>/dev/null)',
  'if [ -z "$g" ] || ! alive; then echo not-running; exit 0; fi',
  'kill -TERM -- "-$g" 2>/dev/null',
  'i=0; while alive; do i=$((i+1)); if [ $i -gt "$n" ]; then break; fi; sleep 0.1; done',
  'if ! alive; then echo terminated; exit 0; fi',
  'kill -KILL -- "-$g" 2>/dev/null',
  // killed processes linger as zombies until reaped; give init a moment
  'i=0; while alive; do i=$((i+1)); if [ $i -gt 50 ]; then echo "moebench: process group $g survived SIGKILL" >&2; exit 3; fi; sleep 0.1; done',
  'echo killed',
].join('\n');

/**
 * args: dir start-byte(1-based) ; streams the log from that byte until the group's leader has
 * exited, then prints what is left and ends (exit 0).
 */
export const FOLLOW_SCRIPT = [
  'd=$1; from=$2',
  EXPAND_DIR,
  '[ -f "$d/log" ] || { echo "moebench: no log at $d/log" >&2; exit 2; }',
  'g=$(cat "$d/pid" 2>/dev/null)',
  ALIVE,
  'if [ -n "$g" ] && alive; then exec tail -c "+$from" --pid="$g" -s 0.2 -f -- "$d/log"; fi',
  'exec tail -c "+$from" -- "$d/log"',
].join('\n');
