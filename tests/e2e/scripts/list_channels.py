#!/usr/bin/env python3
"""A training script for the e2e tests: records, from inside the job, what this host sees.

Writes /opt/ml/model/listing-<host>.json (one name per host, so that the hosts' files do not
clash in the merged model.tar.gz):
  {"host": SM_CURRENT_HOST, "hosts": SM_HOSTS, "resourceconfig": <resourceconfig.json>,
   "channels": {channel: {relative path: sha256}}}
Standard library only.
"""
import hashlib
import json
import os

host = os.environ["SM_CURRENT_HOST"]
listing = {
    "host": host,
    "hosts": json.loads(os.environ["SM_HOSTS"]),
    "resourceconfig": json.load(open("/opt/ml/input/config/resourceconfig.json")),
    "channels": {},
}
for ch in json.loads(os.environ["SM_CHANNELS"]):
    root = os.environ["SM_CHANNEL_" + ch.upper()]
    files = {}
    for d, dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    listing["channels"][ch] = files
with open(f"/opt/ml/model/listing-{host}.json", "w") as f:
    json.dump(listing, f, indent=1, sort_keys=True)
print(f"{host}: " + ", ".join(f"{ch} {len(v)} files" for ch, v in sorted(listing["channels"].items())), flush=True)
