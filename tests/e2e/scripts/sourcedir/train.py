# A SageMaker Python SDK-style training script (script mode): hyperparameters arrive as argparse
# arguments, paths through the SM_* variables. Run by tests/e2e/train_script_mode_test.sh from a
# sourcedir.tar.gz in S3, as Estimator(entry_point="train.py", source_dir=...).fit() would.
import argparse
import json
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--model-name", type=str, default="none")
parser.add_argument("--use-amp", type=lambda s: s == "True", default=False)
parser.add_argument("--layers", type=json.loads, default=None)
parser.add_argument("--note", type=str, default="")
parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
args = parser.parse_args()

from lib.util import VALUE  # a module of the source directory, found from the working directory

try:
    import tinypkg  # installed only with --install-requirements
    tiny = tinypkg.X
except ImportError:
    tiny = None

run = {
    "args": vars(args),
    "argv": sys.argv,
    "cwd": os.getcwd(),
    "value": VALUE,
    "tinypkg": tiny,
    "train_files": sorted(os.listdir(args.train)) if args.train else None,
    "user_args": json.loads(os.environ["SM_USER_ARGS"]),
    "module_dir": os.environ.get("SM_MODULE_DIR"),
    "entry_point": os.environ.get("SM_USER_ENTRY_POINT"),
}
with open(os.path.join(args.model_dir, "run.json"), "w") as f:
    json.dump(run, f)
print(f"trained {args.model_name} for {args.epochs} epochs at lr {args.lr}")
