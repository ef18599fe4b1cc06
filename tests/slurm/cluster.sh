#!/usr/bin/env bash
# tests/slurm/cluster.sh start|stop|status|env
#
# A private SLURM cluster on this machine for the SLURM tests (and for
# trying `hpcpipe slurm` by hand): one slurmctld and two slurmd "nodes"
# (node1, node2) on 127.0.0.1, with their own munged, config, state and
# logs under $HPCPIPE_SLURM_DIR. Runs as root, needs no systemd, no cgroup
# plugins and no database. Installs slurm-wlm + munge if missing
# (.ci/install-deps.sh --slurm-only).
#
#   start   write a fresh config, start the daemons, wait until both nodes
#           are idle (no-op when already up). Exits 77 with the reason on
#           stderr when SLURM cannot start here (not root, no cgroup fs,
#           ports taken, a daemon that does not come up; the last lines of
#           its log are printed): the tests skip on 77.
#   stop    cancel every job, stop the daemons (by pid file, ours only).
#   status  exit 0 and print sinfo when up.
#   env     print "export SLURM_CONF=..." for eval.
#
# Settings: HPCPIPE_SLURM_DIR [/tmp/hpcpipe-slurm], HPCPIPE_SLURM_PORT
# [6917; the slurmds take the next two], HPCPIPE_SLURM_CPUS per node [4].
#
# Why each setting is what it is: ../docs/slurm.md#the-test-cluster.
set -euo pipefail

DIR=${HPCPIPE_SLURM_DIR:-/tmp/hpcpipe-slurm}
DIR=${DIR%/}
PORT=${HPCPIPE_SLURM_PORT:-6917}
CPUS=${HPCPIPE_SLURM_CPUS:-4}
NODES="node1 node2"
CONF=$DIR/slurm.conf
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { echo "slurm-cluster: $*" >&2; }
cannot() { say "SKIP: $*"; exit 77; }
die() { say "error: $*"; exit 1; }

case "$DIR" in /?*/?*) ;; *) die "HPCPIPE_SLURM_DIR must be an absolute path two levels deep" ;; esac

# The pid in FILE if that process is alive, not a zombie, and was started
# with our directory on its command line (a recycled pid is never ours).
ours() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/" || return 1
  echo "$pid"
}

pidfiles() { # stop order: nodes, controller, munge
  echo "$DIR/run/slurmd-node1.pid" "$DIR/run/slurmd-node2.pid" \
    "$DIR/run/slurmctld.pid" "$DIR/run/munged.pid"
}

up() {
  local f
  for f in $(pidfiles); do ours "$f" >/dev/null || return 1; done
  SLURM_CONF=$CONF sinfo -h >/dev/null 2>&1
}

write_conf() {
  local mem i=0 n
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  cat >"$CONF" <<EOF
# written by tests/slurm/cluster.sh at every start
ClusterName=hpcpipe-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/socket,cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=pmix
ReturnToService=2
SchedulerParameters=sched_interval=2,bf_interval=2
MailProg=/bin/true
KillWait=10
InactiveLimit=0
MinJobAge=600
JobRequeue=1
TaskProlog=$DIR/task-prolog.sh
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
EOF
  for n in $NODES; do
    i=$((i + 1))
    echo "NodeName=$n NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((PORT + i)) CPUs=$CPUS RealMemory=$mem State=UNKNOWN" >>"$CONF"
  done
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$CONF"
  # Both "nodes" are this host: Open MPI sees one host name and takes the
  # ranks of node1 and node2 for neighbours, whose shared-memory segments
  # (named by host, job and local rank) then collide - a segfault in
  # btl_vader. In a job on both nodes, ranks talk TCP over loopback, as
  # they would over the network between real nodes. (A task prolog's
  # "export" lines override the job's environment.)
  cat >"$DIR/task-prolog.sh" <<EOF
#!/bin/sh
echo "export OMPI_MCA_orte_tmpdir_base=$DIR/tmp/\$SLURMD_NODENAME"
[ "\${SLURM_JOB_NUM_NODES:-1}" = 1 ] || echo "export OMPI_MCA_btl=self,tcp"
EOF
  chmod 755 "$DIR/task-prolog.sh"
  printf 'CgroupPlugin=autodetect\nIgnoreSystemdOnFailure=yes\n' >"$DIR/cgroup.conf"
  echo "PMIxCliTmpDirBase=$DIR/tmp/ctld" >"$DIR/mpi.conf"
  mkdir -p "$DIR/tmp/ctld"
  for n in $NODES; do
    mkdir -p "$DIR/nodes/$n" "$DIR/tmp/$n" "$DIR/spool/$n"
    ln -sf ../../slurm.conf "$DIR/nodes/$n/slurm.conf"
    ln -sf ../../cgroup.conf "$DIR/nodes/$n/cgroup.conf"
    echo "PMIxCliTmpDirBase=$DIR/tmp/$n" >"$DIR/nodes/$n/mpi.conf"
  done
}

wait_until() { # SECONDS COMMAND...
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

nodes_idle() {
  [ "$(SLURM_CONF=$CONF sinfo -h -N -o '%N %t' | sort -u | tr '\n' ' ')" = "node1 idle node2 idle " ]
}

start() {
  if up; then say "already up"; return 0; fi
  [ "$(id -u)" -eq 0 ] || cannot "not root: slurmd and munged run as root here"
  [ -n "$(ls -A /sys/fs/cgroup 2>/dev/null)" ] ||
    cannot "no cgroup filesystem at /sys/fs/cgroup; slurmd 22.05 needs one"
  local c
  for c in munged mungekey slurmctld slurmd sbatch; do
    command -v "$c" >/dev/null || { bash "$ROOT/.ci/install-deps.sh" --slurm-only || cannot "cannot install slurm-wlm/munge"; break; }
  done
  stop quiet
  local p
  for p in $PORT $((PORT + 1)) $((PORT + 2)); do
    ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || cannot "port $p is taken; set HPCPIPE_SLURM_PORT"
  done
  if [ -e "$DIR" ] && [ ! -e "$DIR/.hpcpipe-slurm" ]; then
    die "$DIR exists and was not made by this script; not wiping it"
  fi
  rm -rf "$DIR"
  # made afresh, root's and not writable by others (slurmctld runs as root
  # on what is in it): mkdir fails if someone made it in the meantime
  mkdir -m 755 "$DIR" || die "cannot create $DIR"
  mkdir -p "$DIR"/{state,log,run,munge}
  : >"$DIR/.hpcpipe-slurm"
  chmod 711 "$DIR/munge" # munged: socket dir searchable by all, key private
  mungekey -c -k "$DIR/munge/key" 2>/dev/null || cannot "mungekey failed"
  write_conf
  trap 'say "start failed; stopping"; tail -n 5 "$DIR"/log/*.log >&2 || true; stop quiet' EXIT
  munged --socket="$DIR/munge/socket" --key-file="$DIR/munge/key" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/seed" </dev/null >>"$DIR/log/daemons.out" 2>&1 || cannot "munged failed to start (log: $DIR/log/munged.log)"
  slurmctld -f "$CONF" </dev/null >>"$DIR/log/daemons.out" 2>&1 || cannot "slurmctld failed to start (log: $DIR/log/slurmctld.log)"
  for n in $NODES; do
    SLURM_CONF=$DIR/nodes/$n/slurm.conf slurmd -f "$DIR/nodes/$n/slurm.conf" -N "$n" \
      </dev/null >>"$DIR/log/daemons.out" 2>&1 || cannot "slurmd $n failed to start (log: $DIR/log/slurmd-$n.log)"
  done
  wait_until 60 nodes_idle || cannot "the nodes are not idle after 60 s (logs: $DIR/log/)"
  trap - EXIT
  say "up: node1, node2 x $CPUS CPUs; export SLURM_CONF=$CONF"
}

stop() {
  local f pid
  if ours "$DIR/run/slurmctld.pid" >/dev/null; then
    SLURM_CONF=$CONF scancel --quiet --user=root >/dev/null 2>&1 || true
    wait_until 20 test -z "$(SLURM_CONF=$CONF squeue -h -o %i 2>/dev/null)" || true
  fi
  for f in $(pidfiles); do
    pid=$(ours "$f") || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 30 eval '! ours "$f"' || kill -KILL "$pid" 2>/dev/null || true
  done
  [ "${1:-}" = quiet ] || say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) up && SLURM_CONF=$CONF sinfo -N || { say "not running"; exit 1; } ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
