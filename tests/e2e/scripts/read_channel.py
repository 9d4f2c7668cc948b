#!/usr/bin/env python3
"""A training script for the e2e FastFile tests: reads every file of every channel, from inside the job.

Writes $SM_MODEL_DIR/read-<host>.json (one name per host, so that the hosts' files do not clash in
the merged model.tar.gz):
  {"host": SM_CURRENT_HOST,
   "inputdataconfig": <$SM_INPUT_CONFIG_DIR/inputdataconfig.json as the job sees it>,
   "channels": {channel: {
       "env": SM_CHANNEL_<NAME>,
       "opt_ml": whether /opt/ml/input/data/<channel> is the same directory as SM_CHANNEL_<NAME>,
       "fstype": the file system type of the mount at SM_CHANNEL_<NAME> (/proc/self/mountinfo), or null,
       "files": {relative path: sha256},            every file, read to its end
       "dirs": [relative paths of the directories],
       "writes": {attempt: errno name or "ok"}}}}     only for channels whose mode is FastFile
The write attempts (create a file, open an existing file for writing, append, truncate, mkdir, unlink,
rename, chmod) must all fail with EROFS on a FastFile channel; a write that succeeds is recorded as
"ok" (and undone where it can be, so that the file list stays the source's).
Standard library only.
"""
import errno
import hashlib
import json
import os

host = os.environ["SM_CURRENT_HOST"]
# The SM_*_DIR variables point at /opt/ml under bubblewrap, at the host's job directory with
# --isolation none.
config_dir = os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
config = json.load(open(os.path.join(config_dir, "inputdataconfig.json")))


def mount_types():
    """mount point -> file system type, as this process sees them (last mount wins)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            point = left.split()[4].encode().decode("unicode_escape")
            out[point] = right.split()[0]
    return out


def attempt(fn):
    try:
        fn()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "ok"


def try_writes(root, files):
    some = os.path.join(root, sorted(files)[0]) if files else None
    res = {}
    new = os.path.join(root, "written-by-the-job")

    def create():
        fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(new)
    res["create"] = attempt(create)
    res["mkdir"] = attempt(lambda: (os.mkdir(new + ".d"), os.rmdir(new + ".d")))
    if some:
        def open_for(flags):
            def fn():
                fd = os.open(some, flags)
                os.close(fd)
            return fn
        res["open_rdwr"] = attempt(open_for(os.O_RDWR))
        res["open_append"] = attempt(open_for(os.O_WRONLY | os.O_APPEND))
        res["truncate"] = attempt(lambda: os.truncate(some, 0))
        res["unlink"] = attempt(lambda: os.unlink(some))
        res["rename"] = attempt(lambda: (os.rename(some, some + ".moved"), os.rename(some + ".moved", some)))
        res["chmod"] = attempt(lambda: os.chmod(some, 0o600))
    return res


mounts = mount_types()
report = {"host": host, "inputdataconfig": config, "channels": {}}
for ch in json.loads(os.environ["SM_CHANNELS"]):
    root = os.environ["SM_CHANNEL_" + ch.upper()]
    files, dirs = {}, []
    for d, subdirs, names in os.walk(root):
        for s in subdirs:
            dirs.append(os.path.relpath(os.path.join(d, s), root))
        for n in names:
            p = os.path.join(d, n)
            h = hashlib.sha256()
            with open(p, "rb") as f:
                while True:
                    block = f.read(1 << 20)
                    if not block:
                        break
                    h.update(block)
            files[os.path.relpath(p, root)] = h.hexdigest()
    opt_ml = f"/opt/ml/input/data/{ch}"
    entry = {
        "env": root,
        "opt_ml": os.path.isdir(opt_ml) and os.path.samefile(opt_ml, root),
        "fstype": mounts.get(os.path.realpath(root)),
        "files": files,
        "dirs": sorted(dirs),
    }
    if config.get(ch, {}).get("TrainingInputMode") == "FastFile":
        entry["writes"] = try_writes(root, files)
    report["channels"][ch] = entry

with open(os.path.join(model_dir, f"read-{host}.json"), "w") as f:
    json.dump(report, f, indent=1, sort_keys=True)
print(f"{host}: " + ", ".join(f"{ch} {len(v['files'])} files" for ch, v in sorted(report["channels"].items())),
      flush=True)
