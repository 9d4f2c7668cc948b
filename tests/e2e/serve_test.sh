#!/usr/bin/env bash
# `sluice serve` end to end with real clients (issue 15): Debian's python3-boto3 and awscli against
# the server, jobs run by it against the local RGW store.
#  - the seed's flow: the platform's IAM user assumes the job-creation role with Tags
#    tenant-id=a (and b), makes a sagemaker client from those credentials, CreateTrainingJob with
#    SessionChainingConfig, the waiter until Completed, DescribeTrainingJob, ListTrainingJobs, the
#    job's log read back through the CloudWatch Logs API (tests/e2e/scripts/serve_client.py);
#  - tenant isolation: b cannot describe, stop or read the logs of a's job; a's job reading b's
#    prefix fails AccessDenied; a job tagged for another tenant is refused;
#  - refusals with AWS's codes: a wrong signature, an unknown key, an expired session, a replay;
#  - StopTrainingJob: Stopping, then Stopped, and the command got SIGTERM;
#  - warm pools: a job with KeepAlivePeriodInSeconds is Available after it completes; the next
#    matching job of the same tenant starts on its inputs (nothing downloaded again) and it is
#    Reused; tenant b's identical job does not take it; UpdateTrainingJob 0 terminates a pool;
#  - `aws sagemaker create-training-job --cli-input-json file://job.json --endpoint-url ...`, its
#    waiter and `aws logs get-log-events`;
#  - the server restarted (SIGTERM, then a new `sluice serve` on the same work directory) while a
#    job runs: the job is re-attached, completes, and is listed once.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init serve
started=$SECONDS
py=/usr/bin/python3
aws=/usr/bin/aws
"$py" -c "import boto3" 2>/dev/null || fail "Debian's python3-boto3 is not installed (./sluice.sh installs it)"
[[ -x $aws ]] || fail "Debian's awscli is not installed (./sluice.sh installs it)"

server_pid=""
serve_cleanup() {
  local rc=$?
  set +e
  [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  # The jobs' runners outlive the server by design: end every process of this test's work directory.
  for p in $(pids_with_token "$tmp/work"); do kill -KILL "$p" 2>/dev/null; done
  (exit "$rc")
  e2e_cleanup
}
trap serve_cleanup EXIT

write_serve_iam "$tmp/iam.json"

for t in a b shared; do
  n=$([[ $t == b ]] && echo 2 || echo 3)
  for i in $(seq "$n"); do rand_file "$tmp/data/$t/part-$i.bin" $((40000 * i)); done
  "$sluice" cp -q -r "$tmp/data/$t/" "s3://$bucket/in/$t/data/"
  "$sluice" cp -q "$scripts/serve_train.py" "s3://$bucket/in/$t/code/serve_train.py"
done

# start_server: `sluice serve` on a free port of 127.0.0.1, in the background; sets $endpoint.
start_server() {
  "$sluice" serve --listen 127.0.0.1:0 --iam-config "$tmp/iam.json" --work-dir "$tmp/work" --max-jobs 3 \
    --stop-grace 5 >"$tmp/serve.out" 2>>"$tmp/serve.err" &
  server_pid=$!
  serve_endpoint
}

start_server
note "server at $endpoint ($((SECONDS - started)) s)"
client_env=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL
  SERVE_ENDPOINT="$endpoint" PLATFORM_KEY_ID="$key_id" PLATFORM_SECRET="$secret" CREATOR_ROLE="$creator"
  EXEC_ROLE="$exec_role" BUCKET="$bucket" RUN_ID="$$-$RANDOM"
  STATE_DB="$tmp/work/.sluice-serve/state.db" CREDS_FILE="$tmp/creds.json" AWS_CONFIG_FILE=/dev/null
  AWS_SHARED_CREDENTIALS_FILE=/dev/null)
"${client_env[@]}" "$py" "$scripts/serve_client.py" flow || { tail -20 "$tmp/serve.err" >&2; fail "the boto3 flow (above)"; }

# --- the aws CLI, with tenant a's session ---------------------------------------------------------
# Debian's awscli (2.9.19) has no SessionChainingConfig in its model and --cli-input-json refuses a
# field it does not know, so this job runs without chaining: with the execution role's own tag
# (tenant-id=shared), it reads and writes the shared prefixes.
note "7. aws sagemaker create-training-job --cli-input-json"
cli_job=cli-$$-$RANDOM
"$py" - "$tmp/cli-job.json" "$cli_job" "$exec_role" "$bucket" <<'PY'
import json, sys
path, name, role, bucket = sys.argv[1:]
json.dump({"TrainingJobName": name, "RoleArn": role,
           "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "sluice/local",
                                      "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/serve_train.py",
                                                              "check", "3"]},
           "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
               "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in/shared/data/"}}},
                               {"ChannelName": "code", "DataSource": {"S3DataSource": {
               "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in/shared/code/"}}}],
           "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out/shared/"},
           "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
           "StoppingCondition": {"MaxRuntimeInSeconds": 600},
           "Tags": [{"Key": "tenant-id", "Value": "a"}]}, open(path, "w"))
PY
creds=$(cat "$tmp/creds.json")
aws_a() {
  env -u AWS_PROFILE -u AWS_ENDPOINT_URL AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID="$(json_get "$tmp/creds.json" 'd["AWS_ACCESS_KEY_ID"]')" \
    AWS_SECRET_ACCESS_KEY="$(json_get "$tmp/creds.json" 'd["AWS_SECRET_ACCESS_KEY"]')" \
    AWS_SESSION_TOKEN="$(json_get "$tmp/creds.json" 'd["AWS_SESSION_TOKEN"]')" \
    "$aws" --endpoint-url "$endpoint" "$@"
}
unset creds
aws_a sagemaker create-training-job --cli-input-json "file://$tmp/cli-job.json" >"$tmp/cli-create.json" 2>"$tmp/cli.err" ||
  fail "aws sagemaker create-training-job: $(cat "$tmp/cli.err")"
grep -q "training-job/$cli_job" "$tmp/cli-create.json" || fail "create-training-job answered $(cat "$tmp/cli-create.json")"
aws_a sagemaker wait training-job-completed-or-stopped --training-job-name "$cli_job" 2>"$tmp/cli.err" ||
  fail "aws sagemaker wait: $(cat "$tmp/cli.err")"
status=$(aws_a sagemaker describe-training-job --training-job-name "$cli_job" --query TrainingJobStatus --output text)
[[ $status == Completed ]] || fail "the aws CLI's job is $status"
stream=$(aws_a logs describe-log-streams --log-group-name /aws/sagemaker/TrainingJobs \
  --log-stream-name-prefix "$cli_job/" --query 'logStreams[0].logStreamName' --output text)
aws_a logs get-log-events --log-group-name /aws/sagemaker/TrainingJobs --log-stream-name "$stream" \
  --start-from-head --query 'events[].message' --output text >"$tmp/cli-log.txt"
grep -q "trained on 3 files" "$tmp/cli-log.txt" || fail "aws logs get-log-events: $(cat "$tmp/cli-log.txt")"
note "7. ok: $cli_job Completed, its log read with aws logs ($stream)"

# --- a restart of the server while a job runs -----------------------------------------------------
note "8. restart the server while a job runs"
long=long-$$-$RANDOM
"${client_env[@]}" "$py" "$scripts/serve_client.py" start "$long" 8 || fail "starting the long job (above)"
stop_server
sleep 1
start_server
grep -q "training job '$long' (InProgress): its runner is still running: re-attached" "$tmp/serve.err" ||
  fail "the new server did not re-attach $long: $(tail -5 "$tmp/serve.err")"
client_env=("${client_env[@]/#SERVE_ENDPOINT=*/SERVE_ENDPOINT=$endpoint}")
"${client_env[@]}" "$py" "$scripts/serve_client.py" after "$long" || fail "after the restart (above)"
note "8. ok: re-attached and Completed"

grep -q -- "$secret" "$tmp/serve.out" "$tmp/serve.err" "$tmp"/work/.sluice-serve/jobs/*/runner.log && fail "a secret is in the server's output"
stop_server
echo "serve: ok ($((SECONDS - started)) s)"
