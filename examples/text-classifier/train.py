#!/usr/bin/env python3
"""A small training script written for SageMaker, run unchanged by `sluice train`.

It trains a multinomial naive Bayes text classifier on JSON records ({"id", "label", "text"})
found under the `train` channel, evaluates it on the `validation` channel when there is one,
writes a checkpoint per epoch to /opt/ml/checkpoints (resuming from the last one), and saves the
model to SM_MODEL_DIR. Standard library only. Hyperparameters: epochs, alpha.

With a Pipe mode channel `stream` (the same records, one RecordIO record per object), it also
trains from the stream, one epoch per FIFO (stream_0, stream_1, ...), with Sluice's reader
package (python/sluice_pipe, on PYTHONPATH), and checks that it learns the same model.
"""
import json
import math
import os
import sys
from collections import Counter, defaultdict


def load_records(directory):
    records = []
    for root, _dirs, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".json"):
                with open(os.path.join(root, name)) as f:
                    records.append(json.loads(f.read()))
    return records


def train(records, alpha):
    word_counts = defaultdict(Counter)
    label_counts = Counter()
    for r in records:
        label_counts[r["label"]] += 1
        word_counts[r["label"]].update(r["text"].split())
    vocab = sorted({w for c in word_counts.values() for w in c})
    model = {"alpha": alpha, "vocab_size": len(vocab), "labels": {}}
    total = sum(label_counts.values())
    for label, n in sorted(label_counts.items()):
        words = word_counts[label]
        model["labels"][str(label)] = {
            "log_prior": math.log(n / total),
            "total_words": sum(words.values()),
            "counts": dict(sorted(words.items())),
        }
    return model


def predict(model, text):
    best, best_score = None, -math.inf
    for label, m in model["labels"].items():
        denom = m["total_words"] + model["alpha"] * model["vocab_size"]
        score = m["log_prior"] + sum(
            math.log((m["counts"].get(w, 0) + model["alpha"]) / denom) for w in text.split())
        if score > best_score:
            best, best_score = label, score
    return int(best)


def main():
    hps = json.loads(os.environ.get("SM_HPS", "{}"))
    epochs = int(hps.get("epochs", 2))
    alpha = float(hps.get("alpha", 1.0))
    channels = json.loads(os.environ["SM_CHANNELS"])
    train_dir = os.environ["SM_CHANNEL_TRAIN"]
    model_dir = os.environ["SM_MODEL_DIR"]
    checkpoints = "/opt/ml/checkpoints"
    host = os.environ.get("SM_CURRENT_HOST", "algo-1")

    records = load_records(train_dir)
    if not records:
        with open("/opt/ml/output/failure", "w") as f:
            f.write(f"no training records under {train_dir}")
        return 2
    start = 0
    os.makedirs(checkpoints, exist_ok=True)
    marker = os.path.join(checkpoints, f"{host}-last-epoch")
    if os.path.exists(marker):
        start = int(open(marker).read()) + 1
        print(f"resuming after epoch {start - 1} from a checkpoint", flush=True)
    model = None
    for epoch in range(start, epochs):
        model = train(records, alpha)
        accuracy = sum(predict(model, r["text"]) == r["label"] for r in records) / len(records)
        print(f"epoch {epoch}: train accuracy {accuracy:.3f} on {len(records)} records", flush=True)
        with open(marker + ".tmp", "w") as f:
            f.write(str(epoch))
        os.replace(marker + ".tmp", marker)
    if model is None:
        model = train(records, alpha)
    if "stream" in channels:
        from sluice_pipe import PipeModeDataset
        stream = PipeModeDataset("stream", record_format="RecordIO")
        for epoch in range(2):  # each pass reads the next FIFO, in a new shuffled order
            streamed = [json.loads(r) for r in stream]
            same = train(streamed, alpha) == model
            print(f"pipe epoch {epoch}: {len(streamed)} records streamed, first id {streamed[0]['id']}, "
                  f"same model as from files: {same}", flush=True)
            if not same:
                with open("/opt/ml/output/failure", "w") as f:
                    f.write("the model trained from the Pipe channel differs from the File channel's")
                return 3
    if "validation" in channels:
        val = load_records(os.environ["SM_CHANNEL_VALIDATION"])
        if val:
            acc = sum(predict(model, r["text"]) == r["label"] for r in val) / len(val)
            print(f"validation accuracy {acc:.3f} on {len(val)} records", flush=True)
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(model, f)
    print(f"model written to {model_dir}/model.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
