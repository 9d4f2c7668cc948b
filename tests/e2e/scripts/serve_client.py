"""The client side of tests/e2e/serve_test.sh: boto3 (Debian's python3-boto3, run with
/usr/bin/python3) against `sluice serve`, as a platform's tenants use SageMaker.

  serve_client.py flow          the seed's flow for tenants a and b, isolation, refusals, Stop
  serve_client.py start NAME S  tenant a starts a job that runs S seconds (before a restart)
  serve_client.py after NAME    after the restart: the job is there once, and completes
  serve_client.py distributed NAME PORT N   (serve_slurm_test.sh) tenant a's 2-host job of
                                the gloo all-reduce with a ShardedByS3Key channel of N files:
                                Completed, each host's share read back through the logs API,
                                the shares disjoint and covering, both all-reduced 3
  serve_client.py hold NAME PORT   a 2-host job that holds after its all-reduce (Training)
  serve_client.py refused NAME PORT   the 2-host job is refused (ValidationException): prints why
  serve_client.py stop NAME     StopTrainingJob: Stopping, then Stopped
  serve_client.py failed NAME   waits for the job to end; it must be Failed: prints FailureReason

Environment: SERVE_ENDPOINT, PLATFORM_KEY_ID, PLATFORM_SECRET, CREATOR_ROLE, EXEC_ROLE, BUCKET,
STATE_DB, RUN_ID. Prints "--- ..." progress lines; exits non-zero with "FAIL: ..." on
the first check that does not hold. Never prints a secret.
"""
import json
import os
import sqlite3
import sys
import time
import urllib.request

import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

E = os.environ["SERVE_ENDPOINT"]
REGION = "us-east-1"
BUCKET = os.environ["BUCKET"]
RUN = os.environ["RUN_ID"]
CREATOR = os.environ["CREATOR_ROLE"]
EXEC = os.environ["EXEC_ROLE"]
GROUP = "/aws/sagemaker/TrainingJobs"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def note(msg):
    print("--- " + msg, file=sys.stderr, flush=True)


def client(service, key_id, secret, token=None):
    return boto3.client(service, endpoint_url=E, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def platform(service):
    return client(service, os.environ["PLATFORM_KEY_ID"], os.environ["PLATFORM_SECRET"])


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        if got != code:
            fail(f"{fn.__name__} answered {got} ({e.response['Error'].get('Message')}), expected {code}")
        return e.response["Error"].get("Message", "")
    fail(f"{fn.__name__} succeeded, expected {code}")


def tenant_session(tenant, duration=None):
    sts = platform("sts")
    kw = {"DurationSeconds": duration} if duration else {}
    creds = sts.assume_role(RoleArn=CREATOR, RoleSessionName=f"tenant-{tenant}",
                            Tags=[{"Key": "tenant-id", "Value": tenant}], **kw)["Credentials"]
    return creds


def clients_of(creds):
    return (client("sagemaker", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
            client("logs", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))


CHAINING_IN_MODEL = "SessionChainingConfig" in botocore.session.get_session().get_service_model(
    "sagemaker").operation_model("CreateTrainingJob").input_shape.members


def with_chaining(sm):
    """EnableSessionTagChaining on every CreateTrainingJob of `sm`. Debian's botocore (1.29) has no
    SessionChainingConfig in its model, so the field is added to the request's JSON before it is
    signed; with a newer model it is passed as a parameter."""
    if CHAINING_IN_MODEL:
        return sm

    def add(request, **_):
        body = json.loads(request.data)
        body["SessionChainingConfig"] = {"EnableSessionTagChaining": True}
        request.data = json.dumps(body).encode()

    sm.meta.events.register("before-sign.sagemaker.CreateTrainingJob", add)
    return sm


def job_request(name, tenant, args, prefix=None):
    req = dict(
        TrainingJobName=name, RoleArn=EXEC,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": "sluice/local",
                                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/serve_train.py"] + args},
        # A multi-tenant job sees no host path: its code comes as a tenant's does, from its prefix.
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/{prefix or tenant}/data/",
            "S3DataDistributionType": "FullyReplicated"}}},
                         {"ChannelName": "code", "DataSource": {"S3DataSource": {
                             "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/{tenant}/code/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/out/{tenant}/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        Tags=[{"Key": "tenant-id", "Value": tenant}])
    if CHAINING_IN_MODEL:
        req["SessionChainingConfig"] = {"EnableSessionTagChaining": True}
    return req


def wait_done(sm, name, attempts=240):
    try:
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": attempts})
    except botocore.exceptions.WaiterError as e:
        if "terminal failure state" not in str(e):  # Failed ends the waiter with an error
            raise
    return sm.describe_training_job(TrainingJobName=name)


def wait_status(sm, name, secondary, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        d = sm.describe_training_job(TrainingJobName=name)
        if d["SecondaryStatus"] == secondary:
            return d
        if d["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.3)
    fail(f"{name} never reached {secondary}: {d['TrainingJobStatus']}/{d['SecondaryStatus']} {d.get('FailureReason', '')}")


def log_lines(logs, name):
    streams = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=name + "/")["logStreams"]
    lines = []
    for s in streams:
        token = None
        while True:
            kw = {"nextToken": token} if token else {}
            r = logs.get_log_events(logGroupName=GROUP, logStreamName=s["logStreamName"], startFromHead=True, **kw)
            lines += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == token:
                break
            token = r["nextForwardToken"]
    return streams, lines


def flow():
    note(f"botocore {botocore.__version__}: SessionChainingConfig in its model: {CHAINING_IN_MODEL}"
         + ("" if CHAINING_IN_MODEL else " (added to the request's JSON before signing)"))
    me = platform("sts").get_caller_identity()
    if not me["Arn"].endswith(":user/platform"):
        fail(f"GetCallerIdentity of the platform's key: {me['Arn']}")
    ca, cb = tenant_session("a"), tenant_session("b")
    sm_a, logs_a = clients_of(ca)
    sm_b, logs_b = clients_of(cb)
    with_chaining(sm_a)
    with_chaining(sm_b)
    who = client("sts", ca["AccessKeyId"], ca["SecretAccessKey"], ca["SessionToken"]).get_caller_identity()
    if ":assumed-role/" not in who["Arn"] or not who["Arn"].endswith("/tenant-a"):
        fail(f"GetCallerIdentity of tenant a's session: {who['Arn']}")

    note("1. tenant a: create, wait, describe, list, logs")
    job_a, job_b = f"a-{RUN}", f"b-{RUN}"
    arn = sm_a.create_training_job(**job_request(job_a, "a", ["check", "3"]))["TrainingJobArn"]
    if not arn.endswith(f":training-job/{job_a}"):
        fail(f"TrainingJobArn {arn}")
    sm_b.create_training_job(**job_request(job_b, "b", ["check", "2"]))
    # A second request for the name (signed in another second: the same bytes would be a replay).
    time.sleep(1.1)
    expect_error("ResourceInUse", sm_a.create_training_job, **job_request(job_a, "a", ["check", "3"]))
    d = wait_done(sm_a, job_a)
    if d["TrainingJobStatus"] != "Completed":
        fail(f"{job_a}: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    statuses = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    if statuses[0] != "Starting" or statuses[-1] != "Completed" or "Training" not in statuses:
        fail(f"SecondaryStatusTransitions {statuses}")
    if not d["ModelArtifacts"]["S3ModelArtifacts"].startswith(f"s3://{BUCKET}/out/a/{job_a}/"):
        fail(f"ModelArtifacts {d['ModelArtifacts']}")
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
        if not hasattr(d.get(key), "timestamp"):
            fail(f"{key} is not a time: {d.get(key)!r}")
    if wait_done(sm_b, job_b)["TrainingJobStatus"] != "Completed":
        fail(f"{job_b} did not complete")
    names_a = [s["TrainingJobName"] for s in sm_a.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]]
    names_b = [s["TrainingJobName"] for s in sm_b.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]]
    if job_a not in names_a or job_b in names_a or job_b not in names_b or job_a in names_b:
        fail(f"tenant a lists {names_a}, tenant b lists {names_b}")
    streams, lines = log_lines(logs_a, job_a)
    if not streams or not streams[0]["logStreamName"].startswith(f"{job_a}/algo-1-"):
        fail(f"log streams of {job_a}: {streams}")
    if "trained on 3 files" not in lines:
        fail(f"the job's log does not have its last line: {lines}")
    note(f"1. ok: {job_a} Completed ({' > '.join(statuses)}), {len(lines)} log lines")

    note("2. tenant b cannot see, stop or read tenant a's job")
    expect_error("AccessDeniedException", sm_b.describe_training_job, TrainingJobName=job_a)
    expect_error("AccessDeniedException", sm_b.stop_training_job, TrainingJobName=job_a)
    expect_error("AccessDeniedException", sm_b.describe_training_job, TrainingJobName="no-such-job")
    # Under these tag conditions a job that does not exist has no tenant-id tag either: denied to
    # everyone, as AWS answers, so names cannot be probed.
    expect_error("AccessDeniedException", sm_a.describe_training_job, TrainingJobName="no-such-job")
    streams_b = logs_b.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=job_a + "/")["logStreams"]
    if streams_b:
        fail(f"tenant b sees tenant a's log streams: {streams_b}")
    try:
        r = logs_b.get_log_events(logGroupName=GROUP, logStreamName=streams[0]["logStreamName"], startFromHead=True)
        fail(f"tenant b read tenant a's log: {r['events'][:2]}")
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("AccessDeniedException", "ResourceNotFoundException"):
            fail(f"tenant b reading tenant a's log: {e.response['Error']}")
    # Tags name the tenant: a job tagged for another tenant is refused at creation.
    bad = job_request(f"a-as-b-{RUN}", "b", ["check", "2"])
    expect_error("AccessDeniedException", sm_a.create_training_job, **bad)
    note("2. ok")

    note("3. tenant a's job reads only a's prefix")
    job_x = f"a-reads-b-{RUN}"
    sm_a.create_training_job(**job_request(job_x, "a", ["check", "2"], prefix="b"))
    d = wait_done(sm_a, job_x)
    if d["TrainingJobStatus"] != "Failed" or "denied" not in d.get("FailureReason", "").lower():
        fail(f"{job_x}: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    note(f"3. ok: Failed: {d['FailureReason'][:160]}")

    note("4. refused requests: wrong signature, expired session, replay")
    # The secret with its last character changed (a random secret ends with "x" one time in 62).
    other = "y" if ca["SecretAccessKey"].endswith("x") else "x"
    wrong = client("sagemaker", ca["AccessKeyId"], ca["SecretAccessKey"][:-1] + other, ca["SessionToken"])
    expect_error("InvalidSignatureException", wrong.list_training_jobs)
    expect_error("SignatureDoesNotMatch", client("sts", os.environ["PLATFORM_KEY_ID"], "x" * 40).get_caller_identity)
    expect_error("UnrecognizedClientException",
                 client("sagemaker", "AKIAUNKNOWN000000000", "x" * 40).list_training_jobs)
    short = tenant_session("a")
    db = sqlite3.connect(os.environ["STATE_DB"], timeout=10)
    with db:
        db.execute("UPDATE sessions SET expiration = ? WHERE access_key_id = ?", (time.time() - 1, short["AccessKeyId"]))
    db.close()
    expired, _ = clients_of(short)
    expect_error("ExpiredTokenException", expired.list_training_jobs)
    # One signed request sent twice, as someone who captured it would: a CreateTrainingJob is
    # refused the second time; a read (ListTrainingJobs) is answered again, as SDKs send identical
    # reads within one second.
    creds = Credentials(ca["AccessKeyId"], ca["SecretAccessKey"], ca["SessionToken"])

    def send_twice(target, body):
        req = AWSRequest(method="POST", url=E + "/", data=json.dumps(body).encode(),
                         headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(creds, "sagemaker", REGION).add_auth(req)
        prepared = req.prepare()
        answers = []
        for _ in range(2):
            r = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
            try:
                with urllib.request.urlopen(r) as resp:
                    answers.append((resp.status, json.loads(resp.read())))
            except urllib.error.HTTPError as e:
                answers.append((e.code, json.loads(e.read())))
        return answers

    replayed = job_request(f"a-replayed-{RUN}", "a", ["check", "3"])
    replayed["SessionChainingConfig"] = {"EnableSessionTagChaining": True}
    answers = send_twice("SageMaker.CreateTrainingJob", replayed)
    if answers[0][0] != 200 or answers[1][0] != 400 or answers[1][1].get("__type") != "InvalidSignatureException":
        fail(f"a CreateTrainingJob sent twice: {answers[0]}, then {answers[1]}")
    reads = send_twice("SageMaker.ListTrainingJobs", {})
    if [a[0] for a in reads] != [200, 200]:
        fail(f"a ListTrainingJobs sent twice: {reads}")
    note(f"4. ok: the replay was refused: {answers[1][1].get('message')}")

    note("5. StopTrainingJob")
    job_s = f"a-stop-{RUN}"
    sm_a.create_training_job(**job_request(job_s, "a", ["hold"]))
    wait_status(sm_a, job_s, "Training")
    # Training is set just before the command starts: a SIGTERM before its handler is installed
    # (a slow start, e.g. under a sanitizer) would end it silently. Its first line says it is ready.
    deadline = time.time() + 120
    while "holding 0" not in log_lines(logs_a, job_s)[1]:
        if time.time() > deadline:
            fail(f"{job_s}'s command printed nothing in 120 s")
        time.sleep(0.2)
    sm_a.stop_training_job(TrainingJobName=job_s)
    if sm_a.describe_training_job(TrainingJobName=job_s)["TrainingJobStatus"] not in ("Stopping", "Stopped"):
        fail("not Stopping after StopTrainingJob")
    d = wait_done(sm_a, job_s)
    if d["TrainingJobStatus"] != "Stopped":
        fail(f"{job_s} after Stop: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    _, lines = log_lines(logs_a, job_s)
    if "got SIGTERM" not in lines:
        fail(f"the stopped job's command did not get SIGTERM: {lines[-3:]}")
    expect_error("ValidationException", sm_a.stop_training_job, TrainingJobName=job_s)
    note("5. ok: Stopped, the command got SIGTERM")
    note("6. warm pool: a matching job starts on the inputs a finished job kept")
    w1, w2 = f"a-warm1-{RUN}", f"a-warm2-{RUN}"
    req = job_request(w1, "a", ["check", "3"])
    req["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 120
    sm_a.create_training_job(**req)
    d1 = wait_done(sm_a, w1)
    if d1["TrainingJobStatus"] != "Completed" or d1.get("WarmPoolStatus", {}).get("Status") != "Available":
        fail(f"{w1}: {d1['TrainingJobStatus']}, WarmPoolStatus {d1.get('WarmPoolStatus')}")
    req = job_request(w2, "a", ["check", "3"])
    req["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 60
    sm_a.create_training_job(**req)
    d2 = wait_done(sm_a, w2)
    d1 = sm_a.describe_training_job(TrainingJobName=w1)
    if d2["TrainingJobStatus"] != "Completed" or d1["WarmPoolStatus"] != {"Status": "Reused", "ReusedByJob": w2}:
        fail(f"{w2}: {d2['TrainingJobStatus']}; {w1}'s WarmPoolStatus {d1['WarmPoolStatus']}")
    downloading = [t["StatusMessage"] for t in d2["SecondaryStatusTransitions"] if t["Status"] == "Downloading"]
    if not any("(4 files already present)" in m for m in downloading):
        fail(f"{w2} downloaded its inputs again: {downloading}")
    if d2.get("WarmPoolStatus", {}).get("Status") != "Available":
        fail(f"{w2}'s own WarmPoolStatus: {d2.get('WarmPoolStatus')}")
    # Tenant b's identical job does not start on tenant a's pool.
    req = job_request(f"b-warm-{RUN}", "b", ["check", "2"])
    req["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 60
    sm_b.create_training_job(**req)
    wait_done(sm_b, f"b-warm-{RUN}")
    if sm_a.describe_training_job(TrainingJobName=w2)["WarmPoolStatus"]["Status"] != "Available":
        fail("tenant b's job took tenant a's warm pool")
    sm_a.update_training_job(TrainingJobName=w2, ResourceConfig={"KeepAlivePeriodInSeconds": 0})
    deadline = time.time() + 10
    while sm_a.describe_training_job(TrainingJobName=w2)["WarmPoolStatus"]["Status"] != "Terminated":
        if time.time() > deadline:
            fail(f"{w2}'s warm pool is not Terminated after UpdateTrainingJob KeepAlivePeriodInSeconds=0")
        time.sleep(0.3)
    note(f"6. ok: {w2} started on {w1}'s pool ({downloading[-1]}); {w1} Reused; b's job did not take a's pool")

    # For the aws CLI step of the shell script: tenant a's credentials.
    json.dump({"AWS_ACCESS_KEY_ID": ca["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": ca["SecretAccessKey"],
               "AWS_SESSION_TOKEN": ca["SessionToken"]}, open(os.environ["CREDS_FILE"], "w"))


def start(name, seconds):
    sm, _ = clients_of(tenant_session("a"))
    with_chaining(sm)
    sm.create_training_job(**job_request(name, "a", ["run", str(seconds)]))
    wait_status(sm, name, "Training")
    note(f"{name} is Training")


def after(name):
    sm, logs = clients_of(tenant_session("a"))
    d = sm.describe_training_job(TrainingJobName=name)
    note(f"after the restart {name} is {d['TrainingJobStatus']}/{d['SecondaryStatus']}")
    d = wait_done(sm, name)
    if d["TrainingJobStatus"] != "Completed":
        fail(f"{name} after the restart: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    listed = [s["TrainingJobName"] for s in sm.list_training_jobs(MaxResults=100, NameContains=name)["TrainingJobSummaries"]]
    if listed != [name]:
        fail(f"after the restart the list has {listed}")
    _, lines = log_lines(logs, name)
    if not any(l.startswith("done after") for l in lines):
        fail(f"the job's log after the restart: {lines[-3:]}")


def distributed_request(name, port, hold=0):
    req = job_request(name, "a", [])
    req["AlgorithmSpecification"]["ContainerEntrypoint"] = ["python3", "/opt/ml/input/data/code/ddp_allreduce.py"]
    req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    req["ResourceConfig"]["InstanceCount"] = 2
    req["Environment"] = {"DDP_PORT": str(port), "HOLD_SECONDS": str(hold)}
    return req


def distributed(name, port, count):
    sm, logs = clients_of(tenant_session("a"))
    with_chaining(sm)
    sm.create_training_job(**distributed_request(name, port))
    d = wait_done(sm, name)
    if d["TrainingJobStatus"] != "Completed":
        fail(f"{name}: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    if d["ResourceConfig"]["InstanceCount"] != 2:
        fail(f"DescribeTrainingJob's ResourceConfig: {d['ResourceConfig']}")
    streams, lines = log_lines(logs, name)
    names = sorted(s["logStreamName"] for s in streams)
    if len(names) != 2 or "/algo-1-" not in names[0] or "/algo-2-" not in names[1]:
        fail(f"the job's log streams: {names}")
    shares, sums = {}, {}
    for line in lines:
        for host in ("algo-1", "algo-2"):
            if line.startswith(f"{host}: files "):
                shares[host] = json.loads(line[len(host) + 8:])
            if line.startswith(f"{host}: all_reduce gave "):
                sums[host] = line.split()[-1]
    if sums != {"algo-1": "3.0", "algo-2": "3.0"}:
        fail(f"the all-reduce in the logs: {sums}; last lines {lines[-6:]}")
    if set(shares) != {"algo-1", "algo-2"}:
        fail(f"the hosts' shares in the logs: {shares}")
    a, b = set(shares["algo-1"]), set(shares["algo-2"])
    every = {f"part-{i}.bin" for i in range(1, count + 1)}
    if a & b or a | b != every or not a or not b:
        fail(f"ShardedByS3Key shares: algo-1 {sorted(a)}, algo-2 {sorted(b)}; expected disjoint and covering {sorted(every)}")
    note(f"{name} Completed on 2 hosts: shares {sorted(a)} and {sorted(b)}, all-reduce 3.0 on both")


def hold(name, port):
    sm, logs = clients_of(tenant_session("a"))
    with_chaining(sm)
    sm.create_training_job(**distributed_request(name, port, hold=300))
    wait_status(sm, name, "Training")
    deadline = time.time() + 120
    while time.time() < deadline:
        _, lines = log_lines(logs, name)
        if "algo-1: holding" in lines and "algo-2: holding" in lines:
            note(f"{name}: both hosts hold")
            return
        time.sleep(0.5)
    fail(f"{name}: the hosts did not both reach 'holding': {lines[-6:]}")


def refused(name, port):
    sm, _ = clients_of(tenant_session("a"))
    with_chaining(sm)
    print(expect_error("ValidationException", sm.create_training_job, **distributed_request(name, port)))


def stop(name):
    sm, _ = clients_of(tenant_session("a"))
    r = sm.stop_training_job(TrainingJobName=name)
    d = sm.describe_training_job(TrainingJobName=name)
    if d["TrainingJobStatus"] not in ("Stopping", "Stopped"):
        fail(f"after StopTrainingJob {name} is {d['TrainingJobStatus']}")
    d = wait_done(sm, name)
    if d["TrainingJobStatus"] != "Stopped":
        fail(f"{name} after StopTrainingJob: {d['TrainingJobStatus']} {d.get('FailureReason')}")
    note(f"{name} Stopped")
    return r


def failed(name):
    sm, _ = clients_of(tenant_session("a"))
    d = wait_done(sm, name)
    if d["TrainingJobStatus"] != "Failed":
        fail(f"{name}: {d['TrainingJobStatus']}, expected Failed")
    print(d.get("FailureReason", ""))


if __name__ == "__main__":
    {"flow": lambda: flow(), "start": lambda: start(sys.argv[2], int(sys.argv[3])),
     "after": lambda: after(sys.argv[2]),
     "distributed": lambda: distributed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])),
     "hold": lambda: hold(sys.argv[2], int(sys.argv[3])),
     "refused": lambda: refused(sys.argv[2], int(sys.argv[3])),
     "stop": lambda: stop(sys.argv[2]), "failed": lambda: failed(sys.argv[2])}[sys.argv[1]]()
