#!/usr/bin/env bash
# A real single-node Slurm cluster for the Slurm executor's tests (Debian's slurm-wlm and munge, as root,
# no systemd, no cgroups). Usage:
#   bash scripts/slurm.sh start   install if missing, start munge, slurmctld and slurmd; print `export SLURM_CONF=...`
#   bash scripts/slurm.sh stop    stop the daemons by their pid files (and munged, if this script started it
#                                 and OEL_SLURM_KEEP_MUNGE is not 1: other clusters on the machine may use it)
#   bash scripts/slurm.sh status  exit 0 when the node answers
# The cluster lives in $OEL_SLURM_DIR (default /tmp/oel-slurm): slurm.conf, state, spool, logs, pid files.
# Exit status 3 means "cannot be installed or started here" (the tests then skip with this script's message).
set -euo pipefail

DIR="${OEL_SLURM_DIR:-/tmp/oel-slurm}"
CONF="$DIR/slurm.conf"

say() { echo "slurm.sh: $*" >&2; }
unavailable() { say "$*"; exit 3; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

install() {
  if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || unavailable "slurm-wlm is not installed and installing it needs root"
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null 2>&1 || unavailable "slurm-wlm is not installed and there is no apt-get to install it"
  say "installing slurm-wlm and munge (Debian packages)..."
  $sudo apt-get update -qq >/dev/null 2>&1 || unavailable "apt-get update failed (no package mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 \
    || unavailable "apt-get install slurm-wlm munge failed"
}

running() {
  [ -f "$CONF" ] && SLURM_CONF="$CONF" timeout 10 sinfo -h -o %t >/dev/null 2>&1
}

start_munge() {
  if pgrep -x munged >/dev/null 2>&1 && munge -n </dev/null >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  chmod 755 /run/munge
  su -s /bin/sh munge -c /usr/sbin/munged || unavailable "munged did not start"
  mkdir -p "$DIR" && touch "$DIR/munged.ours"
  for _ in $(seq 1 50); do munge -n </dev/null >/dev/null 2>&1 && return 0; sleep 0.1; done
  unavailable "munged started but does not answer"
}

write_conf() {
  local host cpus ctld_port d_port
  host="$(hostname -s)"
  cpus="$(nproc)"
  ctld_port="$(free_port)"
  d_port="$(free_port)"
  rm -rf "$DIR/state" "$DIR/spool"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF" <<CONF
# Written by scripts/slurm.sh: a single-node test cluster.
ClusterName=oel
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
MinJobAge=3600
KillWait=5
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
NodeName=$host CPUs=$cpus RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  install
  if running; then
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  stop_daemons
  start_munge
  write_conf
  export SLURM_CONF="$CONF"
  /usr/sbin/slurmctld -f "$CONF" || unavailable "slurmctld did not start (see $DIR/log/slurmctld.log)"
  /usr/sbin/slurmd -f "$CONF" || unavailable "slurmd did not start (see $DIR/log/slurmd.log)"
  for _ in $(seq 1 100); do
    state="$(sinfo -h -o %t 2>/dev/null | head -1 || true)"
    case "$state" in
      idle|mix|alloc) echo "export SLURM_CONF=$CONF"; say "node $(hostname -s) is $state"; return 0 ;;
      down*|drain*) scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  unavailable "the node did not become idle (see $DIR/log/)"
}

stop_daemons() {
  local name pid
  for name in slurmd slurmctld; do
    if [ -f "$DIR/$name.pid" ]; then
      pid="$(cat "$DIR/$name.pid" 2>/dev/null || true)"
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$DIR/$name.pid"
    fi
  done
}

stop_munge() {
  # Only a munged this script started (another cluster on the machine may share it otherwise).
  [ -f "$DIR/munged.ours" ] && [ "${OEL_SLURM_KEEP_MUNGE:-0}" != 1 ] || return 0
  local pid
  pid="$(cat /run/munge/munged.pid 2>/dev/null || true)"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -f "$DIR/munged.ours"
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemons; stop_munge; say "stopped" ;;
  status) running ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
