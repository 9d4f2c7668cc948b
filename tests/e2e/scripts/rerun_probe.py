# The command of tests/e2e/train_names_test.sh: records what a run finds in its /opt/ml (inputs,
# model and output directories at the start, checkpoints) in model/seen.json, then does what the
# hyperparameter "mode" says: "first" leaves an extra model file, "fail-once" writes a checkpoint
# and fails unless the checkpoint is already there (a resumed run).
import json, os, sys
opt = "/opt/ml"
seen = {
    "train": sorted(os.listdir(f"{opt}/input/data/train")),
    "model_at_start": sorted(os.listdir(f"{opt}/model")),
    "output_at_start": sorted(os.listdir(f"{opt}/output")),
    "checkpoints": sorted(os.listdir(f"{opt}/checkpoints")) if os.path.isdir(f"{opt}/checkpoints") else None,
}
mode = json.load(open(f"{opt}/input/config/hyperparameters.json"))["mode"]
open(f"{opt}/model/seen.json", "w").write(json.dumps(seen))
if mode == "first":
    open(f"{opt}/model/extra-from-first-run.bin", "w").write("stale")
elif mode == "fail-once":
    if not os.path.exists(f"{opt}/checkpoints/ckpt-1"):
        open(f"{opt}/checkpoints/ckpt-1", "w").write("step 1")
        open(f"{opt}/model/stale-from-failed-run.bin", "w").write("stale")
        print("failing after a checkpoint")
        sys.exit(1)
print("done", json.dumps(seen))
