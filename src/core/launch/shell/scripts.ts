/**
 * Fixed bash scripts run on a node through `cluster.exec(['bash', '-c', SCRIPT, name, ...args])`.
 * Everything variable (directory, argv, offsets) arrives as positional arguments, so nothing a
 * user typed is ever part of script text. A process directory holds:
 *   pid        the process group id (= pid of the group's leader, written by the leader itself)
 *   log        stdout+stderr of the whole group
 *   exit_code  written when the command exits (also after TERM/INT/HUP), absent after KILL
 *
 * Which process group is ours is never read from a file when it matters: status, stop and
 * signals take the pgid, the leader's start time (field 22 of /proc/<pid>/stat) and a random
 * token recorded at start (the token is in the environment of every process of the group, as
 * MOEBENCH_PROC_TOKEN), and act only on a group that still proves to be that one. A pid file or
 * a `boot_id` link planted in the directory can no longer aim a stop at someone else's processes.
 */

/** `~/x` to `$HOME/x`: quoting keeps the shell from doing it. */
export const EXPAND_DIR = 'case $d in "~") d=$HOME;; "~/"*) d=$HOME/${d#"~/"};; esac';

/**
 * Does the group have a live member? Zombies do not count: `kill -0` succeeds on them, and an
 * init that reaps slowly (containers) would make a dead group look alive.
 */
export const GROUP_ALIVE = `group_alive() { kill -0 -- "-$1" 2>/dev/null && ps -e -o pgid= -o stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }`;

/** the start time (clock ticks since boot) of process `$1`, or nothing */
const START_TIME = `start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }`;

/**
 * Is group `$g` still the one we started? `$start` and `$tok` come from our own record. The leader
 * (pid = pgid), if alive, must have the recorded start time (else the pid was reused); and some
 * live member must carry the token in its environment (a reused pgid, or a group someone else
 * started, never does).
 */
const ALIVE = [
  GROUP_ALIVE,
  START_TIME,
  `alive() { group_alive "$g" || return 1; if [ -e "/proc/$g" ] && [ "$(start_time "$g")" != "$start" ]; then return 1; fi; for p in $(ps -e -o pid= -o pgid= -o stat= | awk -v g="$g" '$2 == g && $3 !~ /^Z/ { print $1 }'); do if tr '\\0' '\\n' < "/proc/$p/environ" 2>/dev/null | grep -qxF "MOEBENCH_PROC_TOKEN=$tok"; then return 0; fi; done; return 1; }`,
].join('\n');

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

/** args: dir token leader-script argv... ; prints `<pgid> <leader start time>` */
export const START_SCRIPT = [
  'd=$1; tok=$2; leader=$3; shift 3',
  EXPAND_DIR,
  'mkdir -p -- "$d" || exit 1',
  GROUP_ALIVE,
  // refusing to start twice only reads the pid file; nothing is signalled from it
  'if [ -s "$d/pid" ] && group_alive "$(cat "$d/pid")"; then echo "moebench: already running as process group $(cat "$d/pid") in $d" >&2; exit 17; fi',
  'rm -f -- "$d/pid" "$d/pid.tmp" "$d/exit_code" "$d/exit_code.tmp" "$d/boot_id"',
  ': > "$d/log"',
  // setsid: own session and process group, no controlling terminal, survives the connection;
  // all three fds redirected, or the exec channel would stay open until the server exits
  'MOEBENCH_PROC_TOKEN=$tok setsid bash -c "$leader" moebench-proc "$d" "$@" </dev/null >>"$d/log" 2>&1 &',
  'i=0; while [ ! -s "$d/pid" ]; do i=$((i+1)); if [ $i -gt 400 ]; then echo "moebench: the process did not start" >&2; exit 1; fi; sleep 0.025; done',
  START_TIME,
  'g=$(cat "$d/pid"); start=$(start_time "$g")',
  // the pid file is only believed when that process carries the token we just made up; a command
  // that already exited (gone, or a zombie whose environment is empty) has nothing to prove
  `running() { st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$st" ] && [ "$st" != Z ]; }`,
  'if [ -n "$start" ] && running "$g" && ! tr \'\\0\' \'\\n\' < "/proc/$g/environ" 2>/dev/null | grep -qxF "MOEBENCH_PROC_TOKEN=$tok" && running "$g"; then echo "moebench: $d/pid names a process this start did not create" >&2; exit 1; fi',
  'echo "$g $start"',
].join('\n');

/** args: dir pgid start token ; prints `state=running|exited|gone`, `exit_code=N`, `log_bytes=N` */
export const STATUS_SCRIPT = [
  'd=$1; g=$2; start=$3; tok=$4',
  EXPAND_DIR,
  ALIVE,
  'if alive; then echo state=running',
  'elif [ -f "$d/exit_code" ]; then echo state=exited; echo "exit_code=$(cat "$d/exit_code")"',
  'else echo state=gone; fi',
  'if [ -f "$d/log" ]; then echo "log_bytes=$(wc -c < "$d/log")"; fi',
].join('\n');

/**
 * args: pgid start token grace-tenths ; TERM the group, wait, KILL, verify. Prints `not-running`,
 * `terminated` or `killed`; exits 3 if something survived KILL. A group that is not provably
 * the one recorded (see ALIVE) is `not-running` and is never signalled.
 */
export const STOP_SCRIPT = [
  'g=$1; start=$2; tok=$3; n=$4',
  ALIVE,
  'if ! alive; then echo not-running; exit 0; fi',
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
  GROUP_ALIVE,
  // only tells tail when to stop reading; nothing is signalled
  'if [ -n "$g" ] && group_alive "$g"; then exec tail -c "+$from" --pid="$g" -s 0.2 -f -- "$d/log"; fi',
  'exec tail -c "+$from" -- "$d/log"',
].join('\n');

/**
 * args: pgid start token signal ; sends one signal to the group if it is provably the recorded
 * one (fault injection). Exits 2 when it is not.
 */
export const SIGNAL_SCRIPT = [
  'g=$1; start=$2; tok=$3; s=$4',
  ALIVE,
  'if ! alive; then echo "moebench: process group $g is not the one this deployment started (or has ended)" >&2; exit 2; fi',
  'kill "-$s" -- "-$g"',
].join('\n');
