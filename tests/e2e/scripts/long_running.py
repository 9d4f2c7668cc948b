#!/usr/bin/env python3
"""A training script that runs until it is stopped, for the e2e stop tests.

    long_running.py MODE TOKEN

MODE "stubborn": SIGTERM is caught, recorded in /opt/ml/model/sigterm.txt and otherwise ignored
(only SIGKILL ends the job). MODE "polite": SIGTERM's default action (the process ends).
Either way it starts a child process that ignores SIGTERM and sleeps, so that a stop must take
down the whole process tree; TOKEN is on both command lines, so the test can look for them from
outside. It writes /opt/ml/model/partial.txt (an intermediate model) and then
/opt/ml/code/started (a marker the test waits for) before it sleeps.
"""
import os
import signal
import subprocess
import sys
import time

mode, token = sys.argv[1], sys.argv[2]
t0 = time.monotonic()

if mode == "stubborn":
    def on_term(signum, frame):
        with open("/opt/ml/model/sigterm.txt", "a") as f:
            f.write(f"SIGTERM after {time.monotonic() - t0:.2f} s\n")
        print("got SIGTERM, ignoring it", flush=True)
    signal.signal(signal.SIGTERM, on_term)

child = subprocess.Popen([sys.executable, "-c",
                          "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
                          token])
with open("/opt/ml/model/partial.txt", "w") as f:
    f.write(f"intermediate model of {os.environ.get('TRAINING_JOB_NAME')}\n")
with open("/opt/ml/code/started", "w") as f:
    f.write(f"{child.pid}\n")
print(f"running ({mode}), child {child.pid}", flush=True)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    time.sleep(0.2)
