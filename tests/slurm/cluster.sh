#!/bin/bash
# A private single-node Slurm cluster for the tests: `cluster.sh start DIR` writes its own munge key
# and slurm.conf under DIR, starts munged, slurmctld and slurmd, and waits until the node is idle;
# `cluster.sh stop DIR` stops them by their pid files. Nothing under /etc is read or changed: every
# client finds the cluster through SLURM_CONF=DIR/slurm.conf (which names DIR's munge socket).
# Root only (slurmd runs jobs as their users); facts that mattered: ../shared/SLURM-NOTES.md.
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: cluster.sh start|stop DIR}")

stop() {
    for d in slurmd slurmctld munged; do
        [ -f "$dir/$d.pid" ] || continue
        pid=$(cat "$dir/$d.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/$d.pid"
    done
}

start() {
    [ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (slurmd runs jobs as their users)" >&2; exit 77; }
    for b in munged slurmctld slurmd sbatch; do
        command -v $b >/dev/null || { echo "cluster.sh: $b not found: make test-deps installs slurm-wlm and munge" >&2; exit 77; }
    done
    stop # a cluster an interrupted run left in this folder
    rm -rf "$dir"/state "$dir"/spool
    mkdir -p "$dir"/{state,spool,log}
    chmod 700 "$dir"
    dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge.key"
    munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
        --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
    local cpus mem port
    # a free pair of ports (a developer's own cluster, or another checkout's, may hold the default)
    for port in $(seq 16817 2 16917); do
        (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null || (echo >/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null || break
    done
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
    cat > "$dir/slurm.conf" <<CONF
ClusterName=iclrtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
MpiDefault=none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
KillWait=5
MinJobAge=30
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N localhost
    local until=$((SECONDS + 30))
    while [ $SECONDS -lt $until ]; do
        if timeout 5 sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "SLURM_CONF=$SLURM_CONF"; return 0; fi
        sleep 0.2
    done
    echo "cluster.sh: the node did not come up idle in 30 s; logs in $dir/log" >&2
    sinfo >&2 || true
    stop
    exit 1
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
