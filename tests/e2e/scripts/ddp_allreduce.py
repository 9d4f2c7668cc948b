#!/usr/bin/env python3
"""A distributed training script for tests/e2e/train_distributed_test.sh, run by /usr/bin/python3
(Debian's python3-torch): what a PyTorch DDP job does on SageMaker with the gloo backend.

It takes the hosts from SM_HOSTS and itself from SM_CURRENT_HOST, checks that every host name
resolves (socket.gethostbyname: the job's /etc/hosts), joins a process group of all hosts
rendezvousing at tcp://<first host>:<DDP_PORT> (DDP_PORT from the request's Environment), all-reduces
a tensor holding rank + 1 and writes what it saw to /opt/ml/model/result.json:
  {"host", "rank", "world_size", "addresses": {host: address}, "sum"}
When the job has a "train" channel, each host also prints the files of its share first:
  <host>: files ["name", ...]
and with HOLD_SECONDS (the request's Environment) it prints "<host>: holding" after the all-reduce
and sleeps that long (a job to stop, or to kill a host of, under tests/e2e/serve_slurm_test.sh).
Any failure ends the script with a non-zero exit and the reason in /opt/ml/output/failure.
"""
import datetime
import json
import os
import socket
import sys
import time
import traceback


def main():
    hosts = json.loads(os.environ["SM_HOSTS"])
    current = os.environ["SM_CURRENT_HOST"]
    port = int(os.environ["DDP_PORT"])
    rank = hosts.index(current)
    addresses = {h: socket.gethostbyname(h) for h in hosts}
    print(f"{current}: rank {rank} of {len(hosts)}, hosts resolve to {addresses}", flush=True)
    channel = "/opt/ml/input/data/train"
    if os.path.isdir(channel):
        files = sorted(os.path.relpath(os.path.join(d, f), channel) for d, _, fs in os.walk(channel) for f in fs)
        print(f"{current}: files {json.dumps(files)}", flush=True)

    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://{hosts[0]}:{port}", rank=rank,
                            world_size=len(hosts), timeout=datetime.timedelta(seconds=90))
    tensor = torch.tensor([float(rank + 1)])
    dist.all_reduce(tensor)
    dist.barrier()
    dist.destroy_process_group()
    print(f"{current}: all_reduce gave {tensor.item()}", flush=True)
    hold = int(os.environ.get("HOLD_SECONDS", "0"))
    if hold:
        print(f"{current}: holding", flush=True)
        time.sleep(hold)
    os.makedirs("/opt/ml/model", exist_ok=True)
    with open("/opt/ml/model/result.json", "w") as f:
        json.dump({"host": current, "rank": rank, "world_size": len(hosts), "addresses": addresses,
                   "sum": tensor.item()}, f)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # the reason goes to FailureReason, as a SageMaker script would write it
        reason = traceback.format_exc()
        print(reason, file=sys.stderr, flush=True)
        os.makedirs("/opt/ml/output", exist_ok=True)
        with open("/opt/ml/output/failure", "w") as f:
            f.write(reason[-1024:])
        sys.exit(1)
