#!/usr/bin/env bash
# A small real Slurm cluster on this machine, for the Slurm backend's tests and for trying it out:
#   scripts/slurm-lab.sh start | stop | status | env
# Debian 12's slurm-wlm 22.05 (slurmctld, slurmd, slurm-client) and munge, installed by
# scripts/install-tools.sh; this script installs nothing. It starts one munged, one slurmctld and
# N `slurmd -N nodeK` on this one host (Debian's build allows several slurmd per host), each node
# on its own loopback address 127.0.77.K so the servers a job starts on different "nodes" can
# listen on the same port, as on a real cluster. Fake GPUs are GRES whose File= entries are
# symlinks to /dev/null (a file-less gpu GRES is dropped by 22.05 and the node goes INVAL).
# Everything lives in $MOEBENCH_SLURM_LAB (default /tmp/moebench-slurm-lab): configuration,
# munge key and socket, state, spools, logs, pid files. Nothing is written under /etc.
# Clients use the lab with SLURM_CONF=<lab>/slurm.conf (`scripts/slurm-lab.sh env` prints it);
# <lab>/lab.json describes it for the tests. Ports are chosen free at start.
# `start` is idempotent: a healthy lab is left as it is, a broken one is stopped and started again.
# Needs root (slurmd starts job steps as the submitting user), as in CI; sudo is used otherwise.
# Recipe and pitfalls: slurm-launch.md §4 (the project's shared reference), reproduced here.
set -euo pipefail
cmd=${1:-status}
LAB=${MOEBENCH_SLURM_LAB:-/tmp/moebench-slurm-lab}
N=${MOEBENCH_SLURM_LAB_NODES:-8}
GPUS=8
CPUS=8
MEM_MB=8000
NET=127.0.77
PARTITION=gpu
URGENT=urgent

die() {
  echo "slurm-lab: FAILED: $1" >&2
  shift
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "slurm-lab: last lines of $f:" >&2
    tail -n 15 "$f" | sed 's/^/  | /' >&2
  done
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "the Slurm lab needs root (slurmd starts steps as the job's user); run it as root"
  exec sudo -E MOEBENCH_SLURM_LAB="$LAB" MOEBENCH_SLURM_LAB_NODES="$N" bash "$0" "$@"
fi

export SLURM_CONF="$LAB/slurm.conf"

# pid from a pid file, only while that process is alive and is the program named
alive_pid() { # pidfile program
  local f=$1 prog=$2 pid
  [ -f "$f" ] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$prog" || return 1
  echo "$pid"
}

node_names() { local i; for i in $(seq 1 "$N"); do echo "node$i"; done; }

# "" when every daemon runs and every node is usable (idle, mixed or allocated), else why not
problem() {
  [ -f "$LAB/slurm.conf" ] || { echo "not started"; return; }
  alive_pid "$LAB/run/munged.pid" munged >/dev/null || { echo "munged is not running"; return; }
  alive_pid "$LAB/run/slurmctld.pid" slurmctld >/dev/null || { echo "slurmctld is not running"; return; }
  local n
  for n in $(node_names); do
    alive_pid "$LAB/run/slurmd.$n.pid" slurmd >/dev/null || { echo "slurmd $n is not running"; return; }
  done
  local states
  states=$(timeout 10 sinfo -h -N -p "$PARTITION" -o '%N %t' 2>&1) || { echo "sinfo failed: $states"; return; }
  local bad
  bad=$(echo "$states" | awk '$2 !~ /^(idle|mix|alloc|comp)$/ {print}')
  [ -z "$bad" ] || { echo "nodes not ready: $(echo "$bad" | tr '\n' ' ')"; return; }
  [ "$(echo "$states" | grep -c .)" = "$N" ] || { echo "sinfo lists $(echo "$states" | grep -c .) nodes, want $N"; return; }
}

kill_pidfile() { # pidfile program
  local pid
  pid=$(alive_pid "$1" "$2") || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop_lab() {
  [ -d "$LAB" ] || return 0
  # jobs first, so no step outlives its slurmd
  if alive_pid "$LAB/run/slurmctld.pid" slurmctld >/dev/null; then
    for part in "$PARTITION" "$URGENT"; do timeout 10 scancel --full --quiet --partition="$part" 2>/dev/null || true; done
    for _ in $(seq 50); do
      [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  local n
  for n in $(node_names); do kill_pidfile "$LAB/run/slurmd.$n.pid" slurmd; done
  # slurmstepd processes of this lab's jobs (they carry the lab's spool dir on their command line
  # only through their parent; match the lab's conf in their environment instead)
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$LAB/slurm.conf"; then kill -9 "$p" 2>/dev/null || true; fi
  done
  kill_pidfile "$LAB/run/slurmctld.pid" slurmctld
  kill_pidfile "$LAB/run/munged.pid" munged
}

free_ports() { # count -> first of `count` consecutive ports free on every lab address
  node -e '
    const net = require("node:net");
    const count = Number(process.argv[1]);
    const hosts = process.argv.slice(2);
    const tryBind = (host, port) => new Promise((res) => { const s = net.createServer(); s.once("error", () => res(false)); s.listen({ host, port, exclusive: true }, () => s.close(() => res(true))); });
    (async () => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const base = 20000 + Math.floor(Math.random() * 20000);
        let ok = true;
        for (let p = base; p < base + count && ok; p++) for (const h of hosts) if (!(await tryBind(h, p))) { ok = false; break; }
        if (ok) { console.log(base); return; }
      }
      process.exit(1);
    })();
  ' "$1" 127.0.0.1 $(for i in $(seq 1 "$N"); do echo "$NET.$i"; done)
}

start_lab() {
  for b in munged mungekey slurmctld slurmd sinfo sbatch srun squeue scontrol scancel; do
    command -v "$b" >/dev/null || die "$b is not installed (scripts/install-tools.sh installs slurmctld slurmd slurm-client munge)"
  done
  command -v node >/dev/null || die "node is needed to pick free ports"
  stop_lab
  rm -rf "$LAB"
  mkdir -p "$LAB"/{run,log,state,spool,dev,munge}
  # munged refuses a socket directory that is not executable by everyone (slurm-launch.md §4 pitfall 1)
  chmod 755 "$LAB" "$LAB/run"
  chmod 700 "$LAB/munge"
  for g in $(seq 0 $((GPUS - 1))); do ln -s /dev/null "$LAB/dev/gpu$g"; done
  # slurmd does not create the parent of its spool dir (pitfall 4a): one per node, made here
  for n in $(node_names); do mkdir -p "$LAB/spool/$n"; done

  # --- munge ---
  mungekey -c -k "$LAB/munge/munge.key" -b 1024 >"$LAB/log/mungekey.log" 2>&1 || die "mungekey -c" "$LAB/log/mungekey.log"
  munged --socket="$LAB/run/munge.sock" --key-file="$LAB/munge/munge.key" --pid-file="$LAB/run/munged.pid" \
    --log-file="$LAB/log/munged.log" --seed-file="$LAB/munge/munged.seed" >"$LAB/log/munged.out" 2>&1 9>&- \
    || die "munged" "$LAB/log/munged.out" "$LAB/log/munged.log"
  for _ in $(seq 50); do [ -S "$LAB/run/munge.sock" ] && break; sleep 0.1; done
  [ -S "$LAB/run/munge.sock" ] || die "munged did not create its socket" "$LAB/log/munged.log"

  # --- configuration ---
  local base host
  base=$(free_ports $((N + 1))) || die "no $((N + 1)) consecutive free ports found for slurmctld and the slurmds"
  host=$(hostname -s 2>/dev/null || hostname)
  cat >"$LAB/slurm.conf" <<EOF
# written by scripts/slurm-lab.sh start
ClusterName=moebench-lab
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmctldPidFile=$LAB/run/slurmctld.pid
SlurmctldLogFile=$LAB/log/slurmctld.log
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$LAB/run/munge.sock
StateSaveLocation=$LAB/state
SlurmdSpoolDir=$LAB/spool/%n
SlurmdPidFile=$LAB/run/slurmd.%n.pid
SlurmdLogFile=$LAB/log/slurmd.%n.log
# no cgroups: cgroup v2-only containers cannot run slurmd's cgroup plugins (slurm-launch.md §4.5)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
# the nodes declare more CPUs and memory than this machine may have (pitfall 4b)
SlurmdParameters=config_overrides
ReturnToService=2
# finished jobs stay visible to squeue -t all / scontrol for an hour (there is no slurmdbd)
MinJobAge=3600
KillWait=5
GresTypes=gpu
# slurmd listens on every address (distinct Port= per node); with NoInAddrAny it binds the
# host name's address, not NodeAddr, and steps sent to 127.0.77.K fail "Communication connection failure"
NodeName=DEFAULT CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:$GPUS State=UNKNOWN
EOF
  local i
  for i in $(seq 1 "$N"); do
    echo "NodeName=node$i NodeHostname=$host NodeAddr=$NET.$i Port=$((base + i))" >>"$LAB/slurm.conf"
  done
  # a second partition over the same nodes whose jobs preempt (cancel) the default one's, so a
  # test can see a job PREEMPTED as on a cluster with a high-priority queue
  cat >>"$LAB/slurm.conf" <<EOF2
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=$URGENT Nodes=ALL Default=NO MaxTime=INFINITE State=UP PriorityTier=10
EOF2
  for n in $(node_names); do echo "NodeName=$n Name=gpu File=$LAB/dev/gpu[0-$((GPUS - 1))]"; done >"$LAB/gres.conf"
  # plugstack.conf of the package (pyxis-style plugins) is not wanted here
  : >"$LAB/plugstack.conf"
  echo "PlugStackConfig=$LAB/plugstack.conf" >>"$LAB/slurm.conf"
  chmod 644 "$LAB/slurm.conf" "$LAB/gres.conf" "$LAB/plugstack.conf"

  # --- daemons ---
  slurmctld -c -i -f "$LAB/slurm.conf" >"$LAB/log/slurmctld.out" 2>&1 9>&- || die "slurmctld" "$LAB/log/slurmctld.out" "$LAB/log/slurmctld.log"
  for n in $(node_names); do
    slurmd -N "$n" -f "$LAB/slurm.conf" >"$LAB/log/slurmd.$n.out" 2>&1 9>&- || die "slurmd -N $n" "$LAB/log/slurmd.$n.out" "$LAB/log/slurmd.$n.log"
  done

  # --- ready: every node idle ---
  local p=""
  for _ in $(seq 150); do
    p=$(problem)
    [ -z "$p" ] && break
    sleep 0.2
  done
  [ -z "$p" ] || die "the lab did not come up within 30 s: $p" "$LAB/log/slurmctld.log" "$LAB/log/slurmd.node1.log"
  local names addrs
  names=$(node_names | sed 's/.*/"&"/' | paste -sd, -)
  addrs=$(for i in $(seq 1 "$N"); do echo "\"$NET.$i\""; done | paste -sd, -)
  cat >"$LAB/lab.json" <<EOF
{"slurmConf": "$LAB/slurm.conf", "partition": "$PARTITION", "urgentPartition": "$URGENT", "nodes": [$names], "addresses": [$addrs], "gpusPerNode": $GPUS, "cpusPerNode": $CPUS, "controllerPort": $base}
EOF
}

# daemons are started with fd 9 closed (9>&-): one that held the lock would block every later run
exec 9>"${LAB%/}.lock"
command -v flock >/dev/null && flock 9

case "$cmd" in
  start)
    p=$(problem)
    if [ -z "$p" ]; then
      echo "slurm-lab: already running in $LAB ($N nodes)"
    else
      [ "$p" = "not started" ] || echo "slurm-lab: restarting ($p)" >&2
      start_lab
      echo "slurm-lab: started $N nodes in $LAB; use SLURM_CONF=$LAB/slurm.conf"
    fi
    sinfo -N -o '%N %P %t %c %G'
    ;;
  stop)
    stop_lab
    echo "slurm-lab: stopped"
    ;;
  status)
    p=$(problem)
    if [ -z "$p" ]; then
      echo "slurm-lab: running in $LAB"
      sinfo -N -o '%N %P %t %c %G'
      squeue
    else
      echo "slurm-lab: not running ($p)"
      exit 1
    fi
    ;;
  env)
    echo "export SLURM_CONF=$LAB/slurm.conf"
    ;;
  *)
    echo "usage: scripts/slurm-lab.sh start|stop|status|env" >&2
    exit 2
    ;;
esac
