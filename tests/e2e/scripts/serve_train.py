"""The training script of the serve e2e test (tests/e2e/serve_test.sh), run by `sluice train`
under `sluice serve`. argv[1] is what to do:
  check N   : the 'train' channel has N files; prints one line per file and "trained on N files"
  hold      : prints a line every 0.2 s until SIGTERM, then "got SIGTERM" and exits 0
  run S     : prints a line every second for S seconds, then "done after S s"
"""
import os
import signal
import sys
import time

mode = sys.argv[1]
if mode == "check":
    want = int(sys.argv[2])
    root = "/opt/ml/input/data/train"
    names = sorted(os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(root) for n in ns)
    for n in names:
        print("read", n, os.path.getsize(os.path.join(root, n)), flush=True)
    if len(names) != want:
        open("/opt/ml/output/failure", "w").write(f"expected {want} input files, found {len(names)}")
        sys.exit(1)
    open("/opt/ml/model/model.txt", "w").write(f"trained on {len(names)} files\n")
    print(f"trained on {len(names)} files", flush=True)
elif mode == "hold":
    # The handler only sets a flag: a print from it while the loop's print is writing stdout is a
    # "reentrant call" RuntimeError (seen under ASan's slower runner).
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    i = 0
    while not stopped:
        print("holding", i, flush=True)
        i += 1
        time.sleep(0.2)
    print("got SIGTERM", flush=True)
elif mode == "run":
    s = int(sys.argv[2])
    for i in range(s):
        print("running", i, flush=True)
        time.sleep(1)
    print(f"done after {s} s", flush=True)
else:
    sys.exit(f"unknown mode {mode}")
