#!/usr/bin/env bash
# Starts a loopback "cluster" of real OpenSSH servers for the SSH integration tests.
#   LAB=<empty dir> PORT=2222 test/lab/start.sh N
# Nodes node1..nodeN listen on 127.0.0.2..127.0.0.(N+1):PORT, a bastion on 127.0.0.1:PORT.
# As root, each sshd runs in its own UTS, PID and mount namespace: `hostname` is the node name,
# the node has its own home directory (bind-mounted over the test user's home) and killing the
# launcher (test/lab/stop.sh) ends every session and detached process on that node.
# Writes $LAB/lab.json describing the lab. Loopback addresses only.
set -euo pipefail
N=${1:?usage: LAB=dir PORT=2222 start.sh N}
LAB=${LAB:?set LAB to an empty directory}
PORT=${PORT:-2222}
LAB=$(cd "$LAB" && pwd)
chmod 755 "$LAB"
SSHD=/usr/sbin/sshd
[ -x $SSHD ] || { echo "start.sh: $SSHD is missing (apt-get install openssh-server)" >&2; exit 2; }

SHELL_USERS=
if [ "$(id -u)" = 0 ]; then
  AS_ROOT=1
  U=moebench-lab
  UHOME=/home/$U
  mkdir -p /run/sshd
  if ! id $U >/dev/null 2>&1; then
    useradd -d $UHOME -M -s /bin/bash $U 2>/dev/null || id $U >/dev/null
  fi
  # '!' (locked) is refused by sshd when UsePAM is off; '*' only disables passwords
  usermod -p '*' $U
  mkdir -p $UHOME
  # One more user per installed login shell (moebench-sh-dash, -zsh, -fish, -tcsh): sshd hands
  # every exec to the user's login shell, and the tests check that no shell's quoting matters.
  for sh in dash zsh fish tcsh; do
    bin=$(command -v $sh 2>/dev/null) || continue
    su=moebench-sh-$sh
    if ! id $su >/dev/null 2>&1; then
      useradd -d /home/$su -M -s "$bin" $su 2>/dev/null || id $su >/dev/null
    fi
    # parallel labs race on /etc/passwd; the first one's usermod is enough
    usermod -p '*' -s "$bin" $su 2>/dev/null || true
    mkdir -p /home/$su
    SHELL_USERS="$SHELL_USERS${SHELL_USERS:+ }$sh:$su:$bin"
  done
else
  # A developer without root: sshd runs as them, for their own user, without namespaces.
  AS_ROOT=0
  U=$(id -un)
  UHOME=$HOME
fi
ALLOW_USERS=$U
for e in $SHELL_USERS; do su=${e#*:}; ALLOW_USERS="$ALLOW_USERS ${su%%:*}"; done

mkdir -p "$LAB/shim" "$LAB/nodes" "$LAB/ssh_config.d" "$LAB/client_home"
ssh-keygen -q -t ed25519 -N '' -C lab-client -f "$LAB/client_key"
ssh-keygen -q -t ed25519 -N 'lab passphrase' -C lab-client-encrypted -f "$LAB/client_key_encrypted"
ssh-keygen -q -t ed25519 -N '' -C lab-agent -f "$LAB/agent_key"
cat "$LAB/client_key.pub" "$LAB/client_key_encrypted.pub" "$LAB/agent_key.pub" > "$LAB/authorized_keys"
: > "$LAB/known_hosts"

# ssh-agent holding only agent_key (not referenced by any IdentityFile)
ssh-agent -D -a "$LAB/agent.sock" >/dev/null 2>&1 </dev/null &
echo $! > "$LAB/agent.pid"
for _ in $(seq 100); do [ -S "$LAB/agent.sock" ] && break; sleep 0.02; done
SSH_AUTH_SOCK="$LAB/agent.sock" ssh-add -q "$LAB/agent_key" 2>/dev/null

start_node() { # name ip
  local n=$1 ip=$2 d="$LAB/nodes/$1"
  mkdir -p "$d/home/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C "$n" -f "$d/ssh_host_ed25519_key"
  local keys_line="AuthorizedKeysFile .ssh/authorized_keys"
  local mounts=("$d/home" "$UHOME")
  if [ $AS_ROOT = 1 ]; then
    install -m 600 "$LAB/authorized_keys" "$d/home/.ssh/authorized_keys"
    chown -R $U: "$d/home"; chmod 755 "$d/home"; chmod 700 "$d/home/.ssh"
    local e su
    for e in $SHELL_USERS; do
      su=${e#*:}; su=${su%%:*}
      mkdir -p "$d/home-$su/.ssh"
      install -m 600 "$LAB/authorized_keys" "$d/home-$su/.ssh/authorized_keys"
      chown -R $su: "$d/home-$su"; chmod 755 "$d/home-$su"; chmod 700 "$d/home-$su/.ssh"
      mounts+=("$d/home-$su" "/home/$su")
    done
  else
    keys_line="AuthorizedKeysFile $LAB/authorized_keys"
  fi
  cat > "$d/sshd_config" <<CFG
ListenAddress $ip:$PORT
HostKey $d/ssh_host_ed25519_key
PidFile none
AllowUsers $ALLOW_USERS
$keys_line
StrictModes $([ $AS_ROOT = 1 ] && echo yes || echo no)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxSessions 10
MaxStartups 100:30:200
AllowTcpForwarding yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
SetEnv NODE_NAME=$n PATH=$LAB/shim:/usr/local/bin:/usr/bin:/bin
CFG
  $SSHD -t -f "$d/sshd_config"
  if [ $AS_ROOT = 1 ]; then
    # --kill-child: when the launcher dies, sshd (pid 1 of the namespace) dies, and with it every
    # process on the "node".
    # the remaining arguments are pairs: a node's own home, bind-mounted over a user's home
    setsid unshare --uts --pid --fork --kill-child --mount-proc \
      sh -c 'hostname "$1" || exit 1; sshd=$2 cfg=$3; shift 3; while [ $# -ge 2 ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; exec "$sshd" -D -e -f "$cfg"' \
      node-launcher "$n" $SSHD "$d/sshd_config" "${mounts[@]}" </dev/null >"$d/sshd.log" 2>&1 &
  else
    setsid $SSHD -D -e -f "$d/sshd_config" </dev/null >"$d/sshd.log" 2>&1 &
  fi
  echo $! > "$d/launcher.pid"
  echo "[$ip]:$PORT $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >> "$LAB/known_hosts"
}

wait_port() { # ip
  for _ in $(seq 250); do
    if (exec 3<>"/dev/tcp/$1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.02
  done
  return 1
}

start_node bastion 127.0.0.1
for i in $(seq 1 "$N"); do start_node "node$i" "127.0.0.$((i + 1))"; done

cp "$LAB/known_hosts" "$LAB/known_hosts.plain"
cp "$LAB/known_hosts" "$LAB/known_hosts.hashed"
ssh-keygen -q -H -f "$LAB/known_hosts.hashed" >/dev/null 2>&1
rm -f "$LAB/known_hosts.hashed.old"

# Client config. Aliases:
#   nodeN            direct, key file
#   jump-nodeN       via the bastion (ProxyJump), key file            (in an Include'd file)
#   jump2-nodeN      via bastion then node1 (two hops), key file      (in an Include'd file)
#   agent-jump-nodeN via agent-bastion, agent only (no IdentityFile)  (in an Include'd file)
{
  echo "# generated by test/lab/start.sh"
  echo "Include $LAB/ssh_config.d/*.conf"
  echo
  echo "Host bastion agent-bastion"
  echo "  HostName 127.0.0.1"
  echo "  Port $PORT"
  for i in $(seq 1 "$N"); do
    echo "Host node$i"
    echo "  HostName 127.0.0.$((i + 1))"
    echo "  Port $PORT"
  done
  echo
  echo "Host node* jump-* jump2-* bastion"
  echo "  IdentityFile $LAB/client_key"
  echo
  echo "Host *"
  echo "  User $U"
  echo "  UserKnownHostsFile $LAB/known_hosts"
} > "$LAB/ssh_config"
{
  for i in $(seq 1 "$N"); do
    ip=127.0.0.$((i + 1))
    printf 'Host jump-node%s\n  HostName %s\n  Port %s\n  ProxyJump bastion\n' "$i" "$ip" "$PORT"
    printf 'Host jump2-node%s\n  HostName %s\n  Port %s\n  ProxyJump bastion,node1\n' "$i" "$ip" "$PORT"
    printf 'Host agent-jump-node%s\n  HostName %s\n  Port %s\n  ProxyJump agent-bastion\n' "$i" "$ip" "$PORT"
  done
} > "$LAB/ssh_config.d/jump.conf"

ok=1
wait_port 127.0.0.1 || ok=0
for i in $(seq 1 "$N"); do wait_port "127.0.0.$((i + 1))" || ok=0; done
if [ $ok = 0 ]; then
  echo "start.sh: an sshd did not start listening on port $PORT; logs:" >&2
  tail -n 3 "$LAB"/nodes/*/sshd.log >&2 || true
  exit 3
fi

# A port that answers is not proof that our sshd answers: a lab started at the same moment by
# another test process may hold it (the bind of ours then failed). Each node must offer its own
# host key, or this lab gives the port up (lab.ts tries the next one).
own_key() { # name ip
  local want got
  want=$(cut -d' ' -f2 "$LAB/nodes/$1/ssh_host_ed25519_key.pub")
  got=$(ssh-keyscan -T 5 -t ed25519 -p "$PORT" "$2" 2>/dev/null | awk '{ print $3 }' | head -n 1)
  [ -n "$got" ] && [ "$got" = "$want" ]
}
own_key bastion 127.0.0.1 || ok=0
for i in $(seq 1 "$N"); do own_key "node$i" "127.0.0.$((i + 1))" || ok=0; done
if [ $ok = 0 ]; then
  echo "start.sh: port $PORT is answered by another sshd than this lab's (a lab started at the same time?)" >&2
  exit 4
fi

{
  printf '{"dir":"%s","user":"%s","port":%s,"asRoot":%s,"nodes":[' "$LAB" "$U" "$PORT" "$([ $AS_ROOT = 1 ] && echo true || echo false)"
  for i in $(seq 1 "$N"); do
    [ "$i" -gt 1 ] && printf ','
    printf '{"name":"node%s","host":"127.0.0.%s","port":%s,"launcherPid":%s}' "$i" "$((i + 1))" "$PORT" "$(cat "$LAB/nodes/node$i/launcher.pid")"
  done
  printf '],"bastion":{"name":"bastion","host":"127.0.0.1","port":%s,"launcherPid":%s},"agentPid":%s' "$PORT" "$(cat "$LAB/nodes/bastion/launcher.pid")" "$(cat "$LAB/agent.pid")"
  # login shell -> user whose login shell it is (root only; empty otherwise)
  printf ',"shellUsers":{'
  first=1
  for e in $SHELL_USERS; do
    sh=${e%%:*}; su=${e#*:}; su=${su%%:*}
    [ $first = 1 ] || printf ','
    first=0
    printf '"%s":"%s"' "$sh" "$su"
  done
  printf '}}\n'
} > "$LAB/lab.json"
echo "lab ready: $N nodes + bastion on port $PORT in $LAB"
