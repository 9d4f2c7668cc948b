#!/usr/bin/env bash
# Smoke test of the local Slurm cluster (scripts/local-slurm), in a DIR of its own under /tmp and
# independent of the local_s3 fixture: start, status, a 2-task srun (both ranks answer), a 2-task
# sbatch job (COMPLETED in DIR/jobcomp.txt), stop with a job still running (no process of DIR is
# left), purge. Needs root (the cluster runs as SlurmUser=root); exits 77 (skipped) otherwise.
#   tests/integration/local_slurm_smoke.sh       (or: ctest -R integration.local_slurm_smoke)
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf 'local_slurm_smoke: %-40s %6d ms\n' "$1" $(($(date +%s%3N) - t_step)) >&2; t_step=$(date +%s%3N); }

((EUID == 0)) || { echo "SKIP: scripts/local-slurm needs root" >&2; exit 77; }
src=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ls=$src/scripts/local-slurm
[[ -x $ls ]] || fail "$ls is not executable"

dir=$(mktemp -d /tmp/sluice-slurm-smoke.XXXXXX)
cleanup() {
  local rc=$?
  "$ls" stop --dir "$dir" --purge >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Slurm commands get DIR's SLURM_CONF; this shell does not (so its own helpers never look like
# processes of DIR).
# shellcheck disable=SC1091
slurm() { (source "$dir/env" && cd "$dir" && timeout 60 "$@"); }

# Live processes that belong to DIR: their command line names it, an open file is under it, or
# their environment has a variable pointing into it (job tasks inherit SLURM_CONF). Zombies are
# skipped: they hold nothing, and init reaps them on its own schedule.
procs_of_dir() {
  local p pid state
  for p in $({ grep -lasF "$dir/" /proc/[0-9]*/cmdline /proc/[0-9]*/environ
               find /proc/[0-9]*/fd -maxdepth 1 -lname "$dir/*"; } 2>/dev/null | cut -d/ -f3 | sort -un); do
    [[ $p != "$$" && $p != "$BASHPID" ]] || continue
    { read -r pid _ state _ <"/proc/$p/stat"; } 2>/dev/null || continue   # (no spaces in these comms)
    [[ $state != Z ]] || continue
    echo "$pid $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)"
  done
}

t0=$(date +%s%3N) t_step=$t0

"$ls" start --dir "$dir" >/dev/null
step "start"
"$ls" status --dir "$dir" >/dev/null || fail "status after start: $("$ls" status --dir "$dir" 2>&1)"
[[ $("$ls" env --dir "$dir") == *"export SLURM_CONF=$dir/slurm.conf"* ]] || fail "env lacks SLURM_CONF"
step "status, env"

# srun: two tasks, each prints its rank, labelled.
out=$(slurm srun -n 2 -l printenv SLURM_PROCID) || fail "srun -n 2 failed: $out"
[[ $(sort <<<"$out" | tr -d ' ') == $'0:0\n1:1' ]] || fail "srun -n 2 -l printenv SLURM_PROCID printed: $out"
step "srun -n 2"

# sbatch: a 2-task job; it ends COMPLETED in jobcomp.txt (scontrol forgets it after MinJobAge).
jid=$(slurm sbatch --parsable -n 2 -o "$dir/job-%j.out" --wrap 'srun -l printenv SLURM_PROCID') ||
  fail "sbatch failed: $jid"
jid=${jid%%;*}
line=''
for ((i = 0; i < 300; i++)); do
  line=$(grep -s "^JobId=$jid " "$dir/jobcomp.txt" || true)
  [[ -n $line ]] && break
  sleep 0.1
done
[[ -n $line ]] || fail "job $jid is not in jobcomp.txt after 30 s: $(slurm scontrol show job "$jid" 2>&1)"
[[ $line == *" JobState=COMPLETED "* ]] || fail "job $jid did not complete: $line"
[[ $line == *" ProcCnt=2 "* ]] || fail "job $jid did not get 2 CPUs: $line"
[[ $(sort "$dir/job-$jid.out" | tr -d ' ') == $'0:0\n1:1' ]] || fail "job $jid printed: $(cat "$dir/job-$jid.out")"
step "sbatch -n 2, COMPLETED in jobcomp.txt"

# stop, with a job still running: the job's steps and tasks must go too.
jid=$(slurm sbatch --parsable -n 2 -o /dev/null --wrap 'srun sleep 300') || fail "sbatch (sleeper) failed: $jid"
jid=${jid%%;*}
for ((i = 0; i < 100; i++)); do
  [[ $(slurm squeue -h -s -j "$jid" -o %i 2>/dev/null) == *"$jid.0"* ]] && break
  sleep 0.1
done
[[ $(slurm squeue -h -s -j "$jid" -o %i) == *"$jid.0"* ]] || fail "sleeper job $jid's step $jid.0 is not running"
step "sbatch a sleeper"
[[ -n $(procs_of_dir) ]] || fail "found no process of $dir while the cluster runs (the check is broken)"
"$ls" stop --dir "$dir" 2>/dev/null
step "stop"
left=$(procs_of_dir)
[[ -z $left ]] || fail "processes of $dir left after stop:"$'\n'"$left"
if "$ls" status --dir "$dir" >/dev/null; then fail "status says running after stop"; fi
"$ls" stop --dir "$dir" --purge 2>/dev/null
[[ ! -e $dir ]] || fail "$dir still exists after stop --purge"
step "purge"
printf 'local_slurm_smoke: OK in %d ms\n' $(($(date +%s%3N) - t0)) >&2
