#!/usr/bin/env bash
# make test-slurm (opt-in, as root): a real single-node Slurm cluster in a temp dir (munged,
# slurmctld, slurmd from Debian's packages, a generated slurm.conf), then `kmodsim sweep
# --executor slurm` against it must give the same runs.csv and points.csv as a local sweep.
#   scripts/test-slurm.sh KMODSIM
set -euo pipefail
kmodsim=$(readlink -f "${1:-build/kmodsim}")
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root (it starts munged, slurmctld and slurmd)" >&2; exit 1; }
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
t=$(mktemp -d /tmp/kmodsim-slurm.XXXXXX)
cleanup() {
  for f in slurmd slurmctld munged; do [ -f "$t/$f.pid" ] && kill "$(cat "$t/$f.pid")" 2>/dev/null || true; done
  sleep 1
  rm -rf "$t"
}
trap cleanup EXIT
mkdir -p "$t/state" "$t/spool" "$t/munge"
chmod 700 "$t/munge"
dd if=/dev/urandom of="$t/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$t/munge/munge.key"
munged --key-file="$t/munge/munge.key" --socket="$t/munge/munge.sock" --pid-file="$t/munged.pid" \
  --log-file="$t/munge/munged.log" --seed-file="$t/munge/munged.seed" --force
port=$(( 20000 + RANDOM % 20000 ))
cat >"$t/slurm.conf" <<EOF
ClusterName=kmodsim
SlurmctldHost=$(hostname -s)(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$t/munge/munge.sock
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/slurmctld.log
SlurmdLogFile=$t/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
NodeName=$(hostname -s) NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$(hostname -s) Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$t/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed" && break
  sleep 1
done
sinfo -h -o %T | grep -qE "idle|mixed" || { echo "test-slurm: the node never came up"; tail -20 "$t/slurmctld.log" "$t/slurmd.log"; exit 1; }
cat >"$t/spec.yaml" <<EOF
schema_version: 1
name: slurm-test
scenario: $here/configs/scenarios/desktop-2009.yaml
grid:
  machine.cores: [1, 2]
  variability.cost_cv: [0.2]
  outputs.timeline: [false]
replications: 6
seed: 5
EOF
"$kmodsim" sweep "$t/spec.yaml" --out "$t/local" -j 2 >/dev/null
"$kmodsim" sweep "$t/spec.yaml" --out "$t/slurm" --executor slurm --shards 3 -j 2
strip() { cut -d, -f1-9,11- "$1"; } # runs.csv without wall_s (column 10)
if diff <(strip "$t/local/runs.csv") <(strip "$t/slurm/runs.csv") >/dev/null &&
   diff "$t/local/points.csv" "$t/slurm/points.csv" >/dev/null; then
  echo "test-slurm: ok (3 array tasks on a single-node Slurm gave the local sweep's tables)"
else
  echo "test-slurm: FAILED: the tables differ"; exit 1
fi
