#!/usr/bin/env bash
# Stops a lab started by start.sh: kills the node launchers and the agent by pid (never by name).
#   LAB=<dir> test/lab/stop.sh [--keep]
set -uo pipefail
LAB=${LAB:?set LAB to the lab directory}
pids=()
for f in "$LAB"/nodes/*/launcher.pid "$LAB/agent.pid"; do
  [ -f "$f" ] || continue
  p=$(cat "$f")
  kill "$p" 2>/dev/null && pids+=("$p")
done
# wait (at most ~2 s) so the ports are free when we return
for _ in $(seq 100); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.02
done
for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
[ "${1:-}" = --keep ] || rm -rf "$LAB"
