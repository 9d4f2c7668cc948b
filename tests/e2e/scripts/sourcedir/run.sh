#!/bin/sh
# A script-mode entry point that is not Python: the toolkit runs it as `/bin/sh -c "./run.sh ARGS"`.
printf '%s\n' "$@" > "$SM_MODEL_DIR/args.txt"
pwd > "$SM_MODEL_DIR/cwd.txt"
