#!/usr/bin/env python3
"""Writes the demo's sample dataset: a small labelled text-classification set laid out the way
training jobs usually find their data in S3 (nested prefixes, many small records, a few larger
binary shards). Deterministic: the same bytes on every run.

usage: make-sample-dataset.py DIR
"""
import json
import os
import random
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    rng = random.Random(20261125)
    # Four topics: each label draws most of its words from its own vocabulary, so the labels
    # can be learnt (the demo's classifier should reach a high accuracy).
    topics = [
        "river gate flow water lock stream channel bank weir pool".split(),
        "shard epoch tensor batch gradient sample label train valid loss".split(),
        "bucket object prefix key etag range part upload listing store".split(),
        "mount fifo pipe record frame header length padding magic crc".split(),
    ]
    common = "the a of and to in is it for on".split()
    for split, count in (("train", 160), ("validation", 40)):
        d = os.path.join(root, "records", split)
        os.makedirs(d, exist_ok=True)
        for i in range(count):
            label = rng.randrange(4)
            text = " ".join(rng.choice(topics[label] if rng.random() < 0.6 else common)
                            for _ in range(rng.randrange(8, 64)))
            with open(os.path.join(d, f"record-{i:05d}.json"), "w") as f:
                json.dump({"id": i, "label": label, "text": text}, f)
                f.write("\n")
    shards = os.path.join(root, "shards")
    os.makedirs(shards, exist_ok=True)
    for s in range(4):
        with open(os.path.join(shards, f"part-{s:03d}.bin"), "wb") as f:
            f.write(rng.randbytes((3 + s) * 1024 * 1024 + 17 * s))
    with open(os.path.join(root, "README.txt"), "w") as f:
        f.write("Sluice demo dataset: records/{train,validation}/*.json and shards/*.bin\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
