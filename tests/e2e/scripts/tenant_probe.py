"""A tenant's training script (tests/e2e/train_tenants_test.sh).

argv: EXPECTED.json, or "-" for none, then the host paths the job must not be able to read.
EXPECTED.json maps channel -> {"files": {relative path: sha256}, "pipe": sha256 of epoch 0}.
Checks every channel's bytes, tries each forbidden path, writes /opt/ml/model/report.json and
exits 0 only if every channel is right; the report says which forbidden paths were readable.
"""
import hashlib
import json
import os
import sys

expected_path, forbidden = sys.argv[1], sys.argv[2:]
report = {"channels": {}, "readable": [], "unreadable": []}
ok = True

if expected_path != "-":
    with open(expected_path) as f:
        expected = json.load(f)
    for channel, want in expected.items():
        base = f"/opt/ml/input/data/{channel}"
        if "files" in want:
            got = {}
            for root, _, files in os.walk(base):
                for name in files:
                    p = os.path.join(root, name)
                    with open(p, "rb") as fh:
                        got[os.path.relpath(p, base)] = hashlib.sha256(fh.read()).hexdigest()
            good = got == want["files"]
        else:
            with open(f"{base}_0", "rb") as fh:
                good = hashlib.sha256(fh.read()).hexdigest() == want["pipe"]
        report["channels"][channel] = good
        ok = ok and good

for path in forbidden:
    try:
        if os.path.isdir(path):
            os.listdir(path)
            # a directory hidden by an empty tmpfs lists as empty: that is unreadable too
            if not os.listdir(path):
                raise PermissionError("empty")
        else:
            with open(path, "rb") as fh:
                if not fh.read():
                    raise PermissionError("empty")
        report["readable"].append(path)
    except OSError:
        report["unreadable"].append(path)

# PROBE_S3="PATH-OK PATH-DENIED" (bucket/key): GET both with the credentials the job was given,
# as training code reading S3 itself would; the HTTP status of each goes into the report.
if os.environ.get("PROBE_S3"):
    import subprocess
    env = os.environ
    report["access_key_id"] = env.get("AWS_ACCESS_KEY_ID", "")
    report["s3"] = {}
    for name, path in zip(("ok", "denied"), env["PROBE_S3"].split()):
        cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
               "--aws-sigv4", f"aws:amz:{env.get('AWS_REGION', 'us-east-1')}:s3",
               "--user", f"{env.get('AWS_ACCESS_KEY_ID', '')}:{env.get('AWS_SECRET_ACCESS_KEY', '')}",
               "-H", f"x-amz-security-token: {env.get('AWS_SESSION_TOKEN', '')}",
               "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
               f"{env.get('AWS_ENDPOINT_URL', '')}/{path}"]
        report["s3"][name] = subprocess.run(cmd, capture_output=True, text=True).stdout

os.makedirs("/opt/ml/model", exist_ok=True)
with open("/opt/ml/model/report.json", "w") as f:
    json.dump(report, f)
# A checkpoint, so that the job writes there while it runs.
os.makedirs("/opt/ml/checkpoints", exist_ok=True)
with open("/opt/ml/checkpoints/step-1.ckpt", "w") as f:
    f.write("step 1\n")
print(json.dumps(report))
sys.exit(0 if ok else 3)
