#!/usr/bin/env bash
# `sluice train` end to end, distributed (issue 13): a 2-host job whose command is PyTorch with the
# gloo backend (tests/e2e/scripts/ddp_allreduce.py, run by /usr/bin/python3: Debian's
# python3-torch, which ./sluice.sh deps installs). Each host resolves every host name of SM_HOSTS,
# joins the process group at tcp://algo-1:PORT and all-reduces rank + 1, so both must see 3.
#  1. one `sluice train` runs both hosts on this machine: algo-K is 127.0.1.K in every host's
#     /etc/hosts (docs/train.md), the job Completes and uploads model.tar.gz;
#  2. two `sluice train --host algo-K --hosts-file F` run at once in separate work directories, as
#     on two machines, F mapping both names to 127.0.0.1 (/etc/hosts format): each Completes.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init distributed

/usr/bin/python3 -c 'import torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null \
  || fail "/usr/bin/python3 cannot import torch with gloo (Debian package python3-torch; ./sluice.sh deps installs it)"

# The background `sluice train` processes of section 2 not yet reaped, stopped on any exit
# (SIGTERM: each stops its command, then exits).
bg_pids=()
on_exit() {
  local rc=$? p
  for p in "${bg_pids[@]}"; do [[ -n $p ]] && kill -TERM "$p" 2>/dev/null; done
  for p in "${bg_pids[@]}"; do [[ -n $p ]] && wait "$p" 2>/dev/null; done
  set +e
  (exit "$rc")  # e2e_cleanup reads the exit status from $?
  e2e_cleanup
}
trap on_exit EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

make_job() {  # make_job NAME PORT
  cat > "$tmp/$1.json" <<JSON
{"TrainingJobName": "$1", "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
 "AlgorithmSpecification": {"TrainingInputMode": "File",
                            "ContainerEntrypoint": ["/usr/bin/python3", "$scripts/ddp_allreduce.py"]},
 "Environment": {"DDP_PORT": "$2"},
 "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
 "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
 "StoppingCondition": {"MaxRuntimeInSeconds": 300}}
JSON
}

# check_result WORK JOB HOST RANK ADDRESS1 ADDRESS2: the host's result.json says it all-reduced 3
# as RANK, seeing algo-1 at ADDRESS1 and algo-2 at ADDRESS2.
check_result() {
  local f=$1/$2/$3/model/result.json
  [[ -f $f ]] || fail "$3 wrote no result.json ($f)"
  python3 - "$f" "$3" "$4" "$5" "$6" <<'PY' || fail "$3's result: $(cat "$f")"
import json, sys
path, host, rank, a1, a2 = sys.argv[1:]
r = json.load(open(path))
want = {"host": host, "rank": int(rank), "world_size": 2, "addresses": {"algo-1": a1, "algo-2": a2}, "sum": 3.0}
sys.exit(0 if r == want else f"got {r}, expected {want}")
PY
}

# check_completed WORK JOB
check_completed() {
  [[ $(json_get "$1/$2/status.json" 'd["TrainingJobStatus"]') == Completed ]] \
    || fail "$2 in $1 is not Completed: $(json_get "$1/$2/status.json" 'd.get("FailureReason")')"
}

note "1. both hosts on this machine: algo-K is 127.0.1.K"
job1=ddp-one-$$-$RANDOM
make_job "$job1" "$(free_port)"
train rc "$tmp/$job1.json" --work-dir "$tmp/w1" --stop-grace 5
expect_rc "$rc" 0 "the 2-host job on one machine"
grep -q '^\[algo-2\] algo-2: all_reduce gave 3.0' "$tmp/train.err" || { show_train_log; fail "algo-2 did not all-reduce"; }
check_completed "$tmp/w1" "$job1"
check_result "$tmp/w1" "$job1" algo-1 0 127.0.1.1 127.0.1.2
check_result "$tmp/w1" "$job1" algo-2 1 127.0.1.1 127.0.1.2
"$sluice" cp -q "s3://$bucket/out/$job1/output/model.tar.gz" "$tmp/model1.tar.gz" || fail "no model.tar.gz uploaded"
tar -tzf "$tmp/model1.tar.gz" | grep -qx 'result.json' || fail "model.tar.gz lacks result.json: $(tar -tzf "$tmp/model1.tar.gz")"

note "2. one sluice train per host, at once, as on two machines (--host, --hosts-file)"
job2=ddp-two-$$-$RANDOM
make_job "$job2" "$(free_port)"
printf '# as a launcher would write it for two machines\n127.0.0.1 algo-1\n127.0.0.1 algo-2\n' > "$tmp/hosts"
for k in 1 2; do
  "$sluice" train "$tmp/$job2.json" --host "algo-$k" --hosts-file "$tmp/hosts" --work-dir "$tmp/m$k" \
    --stop-grace 5 >"$tmp/m$k.out" 2>"$tmp/m$k.err" &
  bg_pids+=($!)
done
for k in 1 2; do
  set +e
  wait "${bg_pids[k - 1]}"
  rc=$?
  set -e
  bg_pids[k - 1]=''  # reaped: its pid is no longer ours to signal
  [[ $rc == 0 ]] || { tail -n 40 "$tmp/m$k.err" >&2; fail "sluice train --host algo-$k exited $rc"; }
done
bg_pids=()
for k in 1 2; do
  check_completed "$tmp/m$k" "$job2"
  check_result "$tmp/m$k" "$job2" "algo-$k" $((k - 1)) 127.0.0.1 127.0.0.1
  [[ ! -e $tmp/m$k/$job2/algo-$((3 - k)) ]] || fail "--host algo-$k also ran algo-$((3 - k))"
done
echo "train_distributed: ok"
