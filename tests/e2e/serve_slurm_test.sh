#!/usr/bin/env bash
# `sluice serve --executor slurm` end to end (issue 16): a single-node Slurm cluster of this test's
# own (scripts/local-slurm), the local RGW store, Debian's python3-boto3 as the client.
#  0. without `--node-network` a job of 2 hosts is refused (ValidationException);
#  1. a 2-instance job created through the API runs as one Slurm job of 2 tasks, each a
#     `sluice train --host algo-K`; its ShardedByS3Key channel is split into disjoint shares that
#     cover every object, and a gloo all-reduce between the two hosts gives 3 on both; status and
#     each host's log come back through DescribeTrainingJob and the logs API;
#  2. StopTrainingJob cancels the Slurm job (scancel): Stopped, nothing left running;
#  3. killing one host's task fails the job, its FailureReason naming the host; nothing left running;
#  and no secret (the platform's secret, the store's key) is in a command line or an environment of
#  the Slurm job, nor in the server's output; each job's credentials file is gone once it ends.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init slurm
started=$SECONDS
py=/usr/bin/python3
"$py" -c "import boto3" 2>/dev/null || fail "Debian's python3-boto3 is not installed (./sluice.sh installs it)"
"$py" -c 'import torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null \
  || fail "/usr/bin/python3 cannot import torch with gloo (Debian package python3-torch; ./sluice.sh deps installs it)"

slurm_dir=$tmp/slurm
server_pid=""
slurm_cleanup() {
  local rc=$?
  set +e
  [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  "$src/scripts/local-slurm" stop --dir "$slurm_dir" --purge >/dev/null 2>&1
  for p in $(pids_with_token "$tmp/work"); do kill -KILL "$p" 2>/dev/null; done
  (exit "$rc")
  e2e_cleanup
}
trap slurm_cleanup EXIT

"$src/scripts/local-slurm" start --dir "$slurm_dir" >/dev/null 2>"$tmp/local-slurm.err" ||
  fail "scripts/local-slurm start: $(tail -20 "$tmp/local-slurm.err")"
# shellcheck disable=SC1091
source "$slurm_dir/env"  # SLURM_CONF
note "Slurm cluster up ($((SECONDS - started)) s)"

write_serve_iam "$tmp/iam.json"
files=6
for i in $(seq "$files"); do rand_file "$tmp/data/part-$i.bin" $((30000 + i)); done
"$sluice" cp -q -r "$tmp/data/" "s3://$bucket/in/a/data/"
"$sluice" cp -q "$scripts/ddp_allreduce.py" "s3://$bucket/in/a/code/ddp_allreduce.py"

# start_server [OPTION...]: `sluice serve --executor slurm` on a free port; sets $endpoint, $client.
start_server() {
  "$sluice" serve --listen 127.0.0.1:0 --iam-config "$tmp/iam.json" --work-dir "$tmp/work" --max-jobs 3 \
    --stop-grace 5 --executor slurm --partition sluice "$@" >"$tmp/serve.out" 2>>"$tmp/serve.err" &
  server_pid=$!
  serve_endpoint
  client=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL
    SERVE_ENDPOINT="$endpoint" PLATFORM_KEY_ID="$key_id" PLATFORM_SECRET="$secret" CREATOR_ROLE="$creator"
    EXEC_ROLE="$exec_role" BUCKET="$bucket" RUN_ID="$$-$RANDOM" AWS_CONFIG_FILE=/dev/null
    AWS_SHARED_CREDENTIALS_FILE=/dev/null "$py" "$scripts/serve_client.py")
}

# free_port: a free port for the job's rendezvous (DDP_PORT), below the kernel's ephemeral range
# (32768-60999) and the local-slurm (17000-19998) and local-s3 (20000-) blocks: a port bound to 0
# and let go is one any outgoing connection of a test running beside this one may take before the
# job binds it (seen once in CI: the job failed as soon as it trained).
free_port() {
  python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(12000, 16999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port in 12000-16999")'
}
# slurm_job_of NAME: the Slurm job id the server gave the training job (its handle, slurm:ID).
slurm_job_of() {
  python3 -c 'import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute("SELECT executor_handle FROM jobs WHERE name = ?", (sys.argv[2],)).fetchone()
print(row[0].removeprefix("slurm:") if row and row[0].startswith("slurm:") else "")' "$tmp/work/.sluice-serve/state.db" "$1"
}
slurm_state() { scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
# no_process_left NAME: nothing of the job runs (its runners, their commands, Slurm's steps).
no_process_left() {
  local left
  for _ in $(seq 100); do
    left=$(pids_with_token "$tmp/work/$1")
    [[ -z $left ]] && ! squeue -h -n "sluice-$1" | grep -q . && return 0
    sleep 0.2
  done
  fail "$1: still running after it ended: pids $left; squeue: $(squeue -h -n "sluice-$1")"
}
# check_secrets_absent ID: no secret (the platform's, the store's) is in the job's batch script, in
# what slurmctld and slurmd keep of the job (its environment, its script), in what scontrol shows,
# nor in the command line or environment of a process of the job (the server's own aside).
check_secrets_absent() {
  local f p
  for f in "$tmp/work/.sluice-serve/jobs/"*/slurm-job.sh; do
    grep -q -e "$secret" -e "${AWS_SECRET_ACCESS_KEY:?}" "$f" && fail "a secret is in $f"
  done
  grep -rqa -e "$secret" -e "$AWS_SECRET_ACCESS_KEY" "$slurm_dir/state" "$slurm_dir/spool" &&
    fail "a secret is in Slurm's state of the job: $(grep -rla -e "$secret" -e "$AWS_SECRET_ACCESS_KEY" "$slurm_dir/state" "$slurm_dir/spool")"
  scontrol show job -dd -o "$1" 2>/dev/null | grep -q -e "$secret" -e "$AWS_SECRET_ACCESS_KEY" && fail "a secret is in scontrol show job $1"
  for p in $(pids_with_token "$tmp/work"); do
    [[ $p == "$server_pid" ]] && continue  # the server has the store's keys: it was given them
    for f in cmdline environ; do
      tr '\0' '\n' <"/proc/$p/$f" 2>/dev/null | grep -q -e "$secret" -e "$AWS_SECRET_ACCESS_KEY" &&
        fail "a secret is in /proc/$p/$f ($(tr '\0' ' ' <"/proc/$p/cmdline"))"
    done
  done
  return 0
}

note "0. without --node-network, a job of 2 hosts is refused (its commands would share the nodes' network)"
start_server
why=$("${client[@]}" refused "refused-$$" 1) || { tail -20 "$tmp/serve.err" >&2; fail "the refusal (above)"; }
grep -q -- "--node-network" <<<"$why" || fail "the refusal does not name --node-network: $why"
stop_server
start_server --node-network

note "1. a 2-instance job on Slurm: sharded channel, gloo all-reduce"
job1=ddp-$$-$RANDOM
"${client[@]}" distributed "$job1" "$(free_port)" "$files" || {
  tail -30 "$tmp/serve.err" >&2
  echo "--- what the job's hosts printed (runner.log):" >&2
  tail -60 "$tmp/work/.sluice-serve/jobs/$job1/runner.log" >&2 || true
  fail "the 2-host job (above)"
}
id1=$(slurm_job_of "$job1")
[[ -n $id1 ]] || fail "$job1 has no Slurm job in the state database"
state=$(slurm_state "$id1")
[[ $state == COMPLETED ]] || fail "Slurm job $id1 of $job1 is $state"
procs=$(scontrol show job -o "$id1" | sed -n 's/.* NumTasks=\([0-9]*\).*/\1/p')
[[ $procs == 2 ]] || fail "Slurm job $id1 has NumTasks=$procs, expected 2"
grep -q "algo-1" "$tmp/work/.sluice-serve/jobs/$job1/hosts" && grep -q "algo-2" "$tmp/work/.sluice-serve/jobs/$job1/hosts" \
  || fail "the hosts file: $(cat "$tmp/work/.sluice-serve/jobs/$job1/hosts")"
[[ ! -e $tmp/work/.sluice-serve/jobs/$job1/credentials ]] || fail "$job1's credentials file is still there after it ended"
check_secrets_absent "$id1"
no_process_left "$job1"
note "1. ok: Slurm job $id1, 2 tasks, COMPLETED ($((SECONDS - started)) s)"

note "2. StopTrainingJob cancels the Slurm job"
job2=stop-$$-$RANDOM
"${client[@]}" hold "$job2" "$(free_port)" || { tail -30 "$tmp/serve.err" >&2; fail "the job to stop (above)"; }
id2=$(slurm_job_of "$job2")
[[ $(slurm_state "$id2") == RUNNING ]] || fail "Slurm job $id2 of $job2 is $(slurm_state "$id2") while it trains"
[[ -s $tmp/work/.sluice-serve/jobs/$job2/credentials ]] || fail "$job2 has no credentials file while it runs"
[[ $(stat -c %a "$tmp/work/.sluice-serve/jobs/$job2/credentials") == 600 ]] || fail "the credentials file is not 0600"
check_secrets_absent "$id2"
"${client[@]}" stop "$job2" || { tail -30 "$tmp/serve.err" >&2; fail "stopping $job2 (above)"; }
state=$(slurm_state "$id2")
[[ $state != RUNNING && $state != PENDING ]] || fail "Slurm job $id2 is still $state after the stop"
[[ ! -e $tmp/work/.sluice-serve/jobs/$job2/credentials ]] || fail "$job2's credentials file is still there after it ended"
no_process_left "$job2"
note "2. ok: Stopped, Slurm job $id2 $state"

note "3. a host's task killed: the job fails naming the host"
job3=kill-$$-$RANDOM
"${client[@]}" hold "$job3" "$(free_port)" || { tail -30 "$tmp/serve.err" >&2; fail "the job to kill a host of (above)"; }
victim=$(E2E_JOB="$tmp/work" "$py" -c '
import os
job = os.environ["E2E_JOB"].encode()
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    if b"train" in argv and b"--host" in argv and argv[argv.index(b"--host") + 1] == b"algo-2" and job in b" ".join(argv):
        print(p)')
[[ $(wc -w <<<"$victim") == 1 ]] || fail "expected one sluice train --host algo-2 process, found '$victim'"
kill -KILL "$victim"
reason=$("${client[@]}" failed "$job3") || { tail -30 "$tmp/serve.err" >&2; fail "$job3 after its task was killed (above)"; }
grep -q "algo-2" <<<"$reason" || fail "$job3's FailureReason does not name algo-2: $reason"
no_process_left "$job3"
note "3. ok: Failed: $reason"

grep -q -e "$secret" -e "$AWS_SECRET_ACCESS_KEY" "$tmp/serve.out" "$tmp/serve.err" "$tmp"/work/.sluice-serve/jobs/*/runner.log \
  && fail "a secret is in the server's output or a runner's log"
stop_server
echo "serve_slurm: ok ($((SECONDS - started)) s)"
