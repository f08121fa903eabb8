#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for testing the slurm profile (not for real runs).
#
#   workflow/profiles/slurm/testcluster.sh start DIR   # config, state and logs in DIR; loopback only
#   workflow/profiles/slurm/testcluster.sh stop DIR    # stops what `start DIR` started, removes its /etc link
#
# Needs root and Debian's packages: apt-get install -y slurm-wlm munge (SLURM 22.05; munge makes its key).
# The node `localhost` (127.0.0.1) has all CPUs, 80% of the memory and two GPUs declared by count only
# (gres, no device files: jobs that ask for --gpus are scheduled, no real GPU is behind them). Partitions: `cpu`
# (default) and `gpu`, the names workflow/profiles/slurm/partitions.yaml routes to.
# Without slurmdbd there is no accounting database: job records go to DIR/jobcomp.txt (jobcomp/filetxt: JobId,
# Partition, JobState, ...) and Snakemake must poll with `--slurm-status-command squeue`.
# Pitfall handled here: the executor plugin drops SLURM_CONF before the in-job `srun`, so the config must also be
# at /etc/slurm/slurm.conf; `start` links it there and refuses if a different slurm.conf already exists.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
ETC=/etc/slurm/slurm.conf
MARK="# lgcaa throw-away test cluster"

stop() {
  for name in slurmd slurmctld munged; do
    if [ -f "$dir/$name.started" ]; then
      pid=$(cat "$dir/$name.started")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.started"
    fi
  done
  if [ -L "$ETC" ] && [ "$(readlink "$ETC")" = "$dir/slurm.conf" ]; then
    rm -f "$ETC"
  fi
}

start() {
  for bin in slurmctld slurmd munged sinfo sbatch; do
    command -v "$bin" >/dev/null || { echo "$bin not found: apt-get install -y slurm-wlm munge" >&2; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { echo "needs root (slurmd runs jobs as their users)" >&2; exit 1; }
  if [ -e "$ETC" ] && ! head -n 1 "$ETC" 2>/dev/null | grep -qF "$MARK"; then
    echo "$ETC exists and is not a throw-away test cluster's: refusing to touch a real SLURM setup" >&2
    exit 1
  fi
  mkdir -p "$dir/state" "$dir/spool"
  dir=$(cd "$dir" && pwd)

  # munge: reuse a running munged, else start one as user munge
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cat /run/munge/munged.pid > "$dir/munged.started"
  fi

  local cpus mem port
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  port=${LGCAA_SLURM_PORT:-16817}
  cat > "$dir/slurm.conf" <<EOF
$MARK (workflow/profiles/slurm/testcluster.sh): loopback only, delete with 'testcluster.sh stop'
ClusterName=lgcaatest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MpiDefault=none
ReturnToService=2
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP
EOF
  printf "NodeName=localhost Name=gpu File=/dev/null\nNodeName=localhost Name=gpu File=/dev/zero\n" > "$dir/gres.conf"
  mkdir -p /etc/slurm
  ln -sfn "$dir/slurm.conf" "$ETC"
  export SLURM_CONF="$dir/slurm.conf"

  slurmctld -D -c -f "$dir/slurm.conf" > "$dir/slurmctld.out" 2>&1 &
  echo $! > "$dir/slurmctld.started"
  slurmd -D -N localhost -f "$dir/slurm.conf" > "$dir/slurmd.out" 2>&1 &
  echo $! > "$dir/slurmd.started"
  for _ in $(seq 300); do
    for name in slurmctld slurmd; do
      kill -0 "$(cat "$dir/$name.started")" 2>/dev/null || { echo "$name exited: $(tail -n 1 "$dir/$name.out")" >&2; stop; exit 1; }
    done
    if sinfo -h -N -o '%t' 2>/dev/null | grep -qx 'idle'; then
      echo "SLURM_CONF=$dir/slurm.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "the test cluster did not become idle in 30 s; logs: $dir/slurmctld.log $dir/slurmd.log" >&2
  tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  stop
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
