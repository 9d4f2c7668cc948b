#!/usr/bin/env bash
# `sluice train` end to end, Pipe channels (FIFOs /opt/ml/input/data/<channel>_<epoch>, fed epoch
# after epoch; docs/pipe.md, docs/manifests.md, docs/sharding-and-shuffling.md, docs/readers.md).
# The training script is tests/e2e/scripts/pipe_reader.py: it records whether <channel>_0 exists
# when it starts, reads the FIFOs and keeps every epoch's bytes in
# <work>/<job>/algo-K/model/algo-K/<channel>_<epoch>; the expected bytes are computed here,
# independently of Sluice (RecordIO framing written in Python).
#  1. S3Prefix, 12 objects (keys whose byte order differs from other orders, an empty one, one of
#     2.5 MiB), RecordWrapperType None and RecordIO, 2 epochs: each epoch is the concatenation /
#     the RecordIO framing of the objects in key byte order; model.tar.gz holds the same bytes;
#  2. ShuffleConfig Seed 11, 3 epochs: every epoch a permutation of the objects, 3 different orders,
#     exactly those of docs/sharding-and-shuffling.md (reimplemented here, checked against its test
#     vectors); the same job again (fresh work dir, new name) gives the same bytes per epoch;
#  3. 2 hosts, ShardedByS3Key + ShuffleConfig, RecordIO, 3 epochs: per epoch the hosts' objects are
#     disjoint and cover the prefix, each host's share is the documented round robin of the
#     epoch's order, and the shares change between epochs;
#  4. AugmentedManifestFile, AttributeNames ["source-ref", "label"], RecordIO: per line a record of
#     the referenced object's bytes, then one of the label text (strings unquoted, numbers as
#     written); a line without "label" fails the job before the command starts (exit code,
#     status.json FailureReason naming the line and the attribute);
#  5. CompressionType Gzip (a multi-member file, an empty one): the objects arrive decompressed,
#     with None and with RecordIO framing;
#  6. the reader reads 1000 bytes of epoch 0 and closes it, then epoch 1 fully: epoch 1 complete;
#  7. two channels read at the same time by two threads: both correct;
#  8. a script that never opens its FIFO and exits 0: the job completes promptly, no process or
#     FIFO left;
#  9. ManifestFile in Pipe mode: the objects in manifest order.
# Every job: inputdataconfig.json says TrainingInputMode Pipe (with the channel's RecordWrapperType
# and S3DistributionType), SM_CHANNEL_<NAME> is /opt/ml/input/data/<name>, and <channel>_0 is a
# FIFO already when the script starts.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init pipe
t_start=$(date +%s)

bg_pid=""   # a `sluice train` running in the background, if any
tokens=()   # markers on the command lines of the jobs' processes
pipe_cleanup() {
  local rc=$? p t
  set +e
  [[ -n $bg_pid ]] && kill -KILL "$bg_pid" 2>/dev/null
  for t in "${tokens[@]}"; do
    for p in $(pids_with_token "$t"); do kill -KILL "$p" 2>/dev/null; done
  done
  (exit "$rc")
  e2e_cleanup
}
trap pipe_cleanup EXIT

# --- helpers -----------------------------------------------------------------------------------------
# The checks, in Python (standard library), as subcommands of $tmp/check.py.
cat > "$tmp/check.py" <<'PY'
import hashlib, json, os, struct, sys

MAGIC = 0xCED7230A
M64 = (1 << 64) - 1

def frame(payload):  # one RecordIO record (docs/readers.md), cflag 0
    assert len(payload) < 1 << 29
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\0" * ((4 - len(payload) % 4) % 4)

def unframe(data, what):  # RecordIO records -> payloads; every byte accounted for
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 8:
            sys.exit(f"{what}: {len(data) - pos} bytes left at offset {pos}, not a RecordIO header")
        magic, lrec = struct.unpack_from("<II", data, pos)
        if magic != MAGIC:
            sys.exit(f"{what}: magic {magic:#x} at offset {pos}")
        if lrec >> 29:
            sys.exit(f"{what}: cflag {lrec >> 29} at offset {pos} (small records are never split)")
        n = lrec & ((1 << 29) - 1)
        pad = (4 - n % 4) % 4
        if pos + 8 + n + pad > len(data):
            sys.exit(f"{what}: record of {n} bytes at offset {pos} runs past the end ({len(data)})")
        if data[pos + 8 + n:pos + 8 + n + pad] != b"\0" * pad:
            sys.exit(f"{what}: non-zero padding after the record at offset {pos}")
        out.append(data[pos + 8:pos + 8 + n])
        pos += 8 + n + pad
    return out

# docs/sharding-and-shuffling.md "The shuffle, exactly", written again from the text.
def splitmix(x):
    while True:
        x = (x + 0x9E3779B97F4A7C15) & M64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        yield z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64

def xoshiro(s):
    s = list(s)
    while True:
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield result

def permutation(n, seed, epoch):
    key = next(splitmix(seed & M64))
    sm = splitmix(key ^ epoch)
    rng = xoshiro([next(sm) for _ in range(4)])
    def bounded(b):
        m = next(rng) * b
        if (m & M64) < b:
            threshold = ((1 << 64) - b) % b
            while (m & M64) < threshold:
                m = next(rng) * b
        return m >> 64
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = bounded(i + 1)
        p[i], p[j] = p[j], p[i]
    return p

def selftest():  # the documented test vectors
    g = splitmix(1234567)
    assert [next(g) for _ in range(3)] == [6457827717110365317, 3203168211198807973, 9817491932198370423]
    g = xoshiro([1, 2, 3, 4])
    assert [next(g) for _ in range(4)] == [11520, 0, 1509978240, 1215971899390074240]
    assert permutation(10, 0, 0) == [5, 3, 8, 2, 0, 6, 7, 1, 4, 9]
    assert permutation(10, 0, 1) == [4, 8, 1, 3, 7, 0, 2, 6, 5, 9]
    p = permutation(20, 42, 1)
    assert p == [11, 17, 13, 5, 2, 12, 9, 15, 6, 7, 10, 16, 3, 0, 4, 19, 14, 18, 8, 1]
    assert p[0::3] == [11, 5, 9, 7, 3, 19, 8] and p[1::3] == [17, 2, 15, 10, 0, 14, 1]
    assert permutation(16, -1, 0) == [11, 6, 3, 13, 5, 9, 1, 7, 10, 4, 12, 14, 15, 2, 8, 0]

def payloads(paths):
    return [open(p, "rb").read() for p in paths]

def expect_bytes(got_path, want, what):
    got = open(got_path, "rb").read() if os.path.exists(got_path) else None
    if got is None:
        sys.exit(f"{what}: the script wrote no {got_path}")
    if got != want:
        k = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
        sys.exit(f"{what}: {len(got)} bytes, want {len(want)}; first difference at offset {k}")

def sha(b):
    return hashlib.sha256(b).hexdigest()

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "selftest":
    selftest()
elif cmd == "perm":  # perm N SEED EPOCH
    print(" ".join(map(str, permutation(int(args[0]), int(args[1]), int(args[2])))))
elif cmd == "expect":  # expect GOT WHAT none|recordio [--prefix BYTES] FILE...
    got, what, framing, files = args[0], args[1], args[2], args[3:]
    limit = None
    if files[:1] == ["--prefix"]:
        limit, files = int(files[1]), files[2:]
    data = payloads(files)
    want = b"".join(data) if framing == "none" else b"".join(frame(d) for d in data)
    expect_bytes(got, want if limit is None else want[:limit], what)
elif cmd == "expect_payloads":  # expect_payloads GOT WHAT PAYLOADS.json (base64 list): RecordIO
    import base64
    got, what = args[0], args[1]
    want = [base64.b64decode(x) for x in json.load(open(args[2]))]
    expect_bytes(got, b"".join(frame(d) for d in want), what)
elif cmd == "common":  # common REPORT CHANNEL:WRAPPER:DISTRIBUTION ...: the job's view of its channels
    rep = json.load(open(args[0]))
    problems = []
    want_channels = {}
    for spec in args[1:]:
        ch, wrapper, dist = spec.split(":")
        want_channels[ch] = (wrapper, dist)
    if sorted(rep["inputdataconfig"]) != sorted(want_channels):
        problems.append(f"inputdataconfig.json channels {sorted(rep['inputdataconfig'])}, want {sorted(want_channels)}")
    for ch, (wrapper, dist) in want_channels.items():
        idc = rep["inputdataconfig"].get(ch, {})
        # docs/container-contract.md: exactly these keys (no ContentType is set; CompressionType,
        # ShuffleConfig, AttributeNames are not written).
        if sorted(idc) != ["RecordWrapperType", "S3DistributionType", "TrainingInputMode"]:
            problems.append(f"{ch}: inputdataconfig.json keys {sorted(idc)}, want RecordWrapperType, S3DistributionType, TrainingInputMode")
        if idc.get("TrainingInputMode") != "Pipe":
            problems.append(f"{ch}: inputdataconfig.json TrainingInputMode {idc.get('TrainingInputMode')}, want Pipe ({idc})")
        if idc.get("RecordWrapperType") != wrapper:
            problems.append(f"{ch}: inputdataconfig.json RecordWrapperType {idc.get('RecordWrapperType')}, want {wrapper}")
        if idc.get("S3DistributionType") != dist:
            problems.append(f"{ch}: inputdataconfig.json S3DistributionType {idc.get('S3DistributionType')}, want {dist}")
        if rep["channel_env"].get(ch) != f"/opt/ml/input/data/{ch}":
            problems.append(f"{ch}: SM_CHANNEL_{ch.upper()} is {rep['channel_env'].get(ch)}, want /opt/ml/input/data/{ch}")
        if rep["at_start"].get(ch) != {f"{ch}_0": "fifo"}:
            problems.append(f"{ch}: when the script started: {rep['at_start'].get(ch)}, want {ch}_0 a FIFO")
    if rep["errors"]:
        problems.append(f"the script's errors: {rep['errors']}")
    if problems:
        sys.exit(f"{args[0]}:\n  " + "\n  ".join(problems))
elif cmd == "records":  # records FILE: the payloads' sha256, one a line
    for p in unframe(open(args[0], "rb").read(), args[0]):
        print(sha(p))
else:
    sys.exit(f"unknown subcommand {cmd}")
PY
check() { python3 "$tmp/check.py" "$@"; }
check selftest || fail "the test's own shuffle does not reproduce docs/sharding-and-shuffling.md's vectors"

status_is() {  # status_is WORK JOB STATUS [SECONDARY]
  local st=$1/$2/status.json
  [[ $(json_get "$st" 'd["TrainingJobStatus"]') == "$3" ]] || { show_train_log; fail "$2: TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]'), expected $3 ($(json_get "$st" 'd.get("FailureReason")'))"; }
  [[ -z ${4:-} || $(json_get "$st" 'd["SecondaryStatus"]') == "$4" ]] || fail "$2: SecondaryStatus $(json_get "$st" 'd["SecondaryStatus"]'), expected $4"
}
# make_job NAME FILE CHANNELS-JSON ENTRYPOINT-JSON [INSTANCES] [MAX-RUNTIME]
make_job() {
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "Pipe", "ContainerEntrypoint": $4},
  "InputDataConfig": $3,
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": ${5:-1}, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": ${6:-120}}
}
EOF
}
# channel NAME S3DATATYPE URI [WRAPPER] [DISTRIBUTION] [CHANNEL-MEMBERS] [S3DATASOURCE-MEMBERS]
channel() {
  echo "{\"ChannelName\": \"$1\", \"RecordWrapperType\": \"${4:-None}\"${6:+, $6},
    \"DataSource\": {\"S3DataSource\": {\"S3DataType\": \"$2\", \"S3Uri\": \"$3\",
    \"S3DataDistributionType\": \"${5:-FullyReplicated}\"${7:+, $7}}}}"
}
# reader ARGS...: the ContainerEntrypoint JSON of pipe_reader.py with ARGS
reader() { python3 -c 'import json, sys; print(json.dumps(["python3"] + sys.argv[1:]))' "$scripts/pipe_reader.py" "$@"; }
# run_job WHAT JOB.json WORK: runs the job, expects exit 0 and Completed
run_job() {
  local job
  job=$(json_get "$2" 'd["TrainingJobName"]')
  train rc "$2" --work-dir "$3"
  expect_rc "$rc" 0 "$1"
  status_is "$3" "$job" Completed Completed
}

# --- the data ----------------------------------------------------------------------------------------
# data/: 12 objects. Key byte order ('-' < '/' < 'A' < 'Z' < '_' < 'a' < 'x' < 0xC3 of 'ü') differs
# from a locale's order; an empty object; b.bin (2.5 MiB) is larger than the 1 MiB pipe buffer.
declare -A sizes=([A.bin]=1000 [Z9.bin]=13 [_u.bin]=3 [a-b.bin]=0 [a.bin]=5 [a/b.bin]=7 [a/c/d.bin]=4096
                  [b.bin]=$((2621440 + 1)) [m.bin]=65537 ["x y.bin"]=12345 [z.bin]=1 [über.bin]=77)
for n in "${!sizes[@]}"; do rand_file "$tmp/src/data/$n" "${sizes[$n]}"; done
mapfile -t keys < <(cd "$tmp/src/data" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
((${#keys[@]} == 12)) || fail "test setup: ${#keys[@]} objects"
data_files=(); for k in "${keys[@]}"; do data_files+=("$tmp/src/data/$k"); done
"$sluice" cp -q -r "$tmp/src/data" "s3://$bucket/data" || fail "upload failed"
data_uri="s3://$bucket/data/"

# --- 1. S3Prefix, None and RecordIO, 2 epochs --------------------------------------------------------
note "1. S3Prefix, RecordWrapperType None and RecordIO, 2 epochs (read one channel after the other)"
job=pipe-prefix-$$-$RANDOM
make_job "$job" "$tmp/j1.json" "[$(channel plain S3Prefix "$data_uri" None), $(channel rio S3Prefix "$data_uri" RecordIO)]" \
  "$(reader plain:2 rio:2)"
run_job "1: an S3Prefix Pipe job" "$tmp/j1.json" "$tmp/w"
got=$tmp/w/$job/algo-1/model/algo-1
check common "$got/report.json" plain:None:FullyReplicated rio:RecordIO:FullyReplicated || fail "1: the job's view (above)"
for e in 0 1; do
  check expect "$got/plain_$e" "1: plain epoch $e" none "${data_files[@]}" || fail "1: FIFO bytes (above)"
  check expect "$got/rio_$e" "1: rio epoch $e" recordio "${data_files[@]}" || fail "1: FIFO bytes (above)"
done
[[ ! -e $tmp/w/$job/algo-1/input/data/plain ]] || fail "1: a directory input/data/plain exists for a Pipe channel"
"$sluice" cp -q "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/m1.tar.gz" || fail "1: no model.tar.gz"
mkdir "$tmp/m1" && tar -xzf "$tmp/m1.tar.gz" -C "$tmp/m1"
cmp -s "$tmp/m1/algo-1/rio_1" "$got/rio_1" || fail "1: model.tar.gz's algo-1/rio_1 differs from the work directory's"

# --- 2. ShuffleConfig, 3 epochs, twice ---------------------------------------------------------------
note "2. ShuffleConfig Seed 11, RecordIO, 3 epochs; the same job twice"
# The objects by content: sha256 -> index in key order (all distinct: random bytes, one empty).
mapfile -t key_sha < <(for f in "${data_files[@]}"; do sha256sum "$f" | cut -d' ' -f1; done)
[[ $(printf '%s\n' "${key_sha[@]}" | sort -u | wc -l) == 12 ]] || fail "test setup: objects with the same bytes"
index_of() {  # index_of SHA: the object's index in key order
  local i
  for i in "${!key_sha[@]}"; do [[ ${key_sha[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo "?"
}
# order_of FILE: the objects of a RecordIO epoch, as indexes in key order
order_of() {
  local s out=()
  while read -r s; do out+=("$(index_of "$s")"); done < <(check records "$1" || echo "unframe-failed")
  echo "${out[*]}"
}
shuffled="\"ShuffleConfig\": {\"Seed\": 11}"
for run in a b; do
  job=pipe-shuffle-$run-$$-$RANDOM
  make_job "$job" "$tmp/j2$run.json" "[$(channel train S3Prefix "$data_uri" RecordIO FullyReplicated "$shuffled")]" "$(reader train:3)"
  run_job "2: a shuffled Pipe job (run $run)" "$tmp/j2$run.json" "$tmp/w2$run"
  check common "$tmp/w2$run/$job/algo-1/model/algo-1/report.json" train:RecordIO:FullyReplicated || fail "2: the job's view (above)"
  ln -s "$tmp/w2$run/$job/algo-1/model/algo-1" "$tmp/got2$run"
done
declare -A seen_orders=()
for e in 0 1 2; do
  order=$(order_of "$tmp/got2a/train_$e")
  sorted=$(tr ' ' '\n' <<<"$order" | sort -n | tr '\n' ' ')
  [[ $sorted == "0 1 2 3 4 5 6 7 8 9 10 11 " ]] || fail "2: epoch $e is not a permutation of the 12 objects: [$order]"
  want=$(check perm 12 11 "$e")
  [[ $order == "$want" ]] || fail "2: epoch $e's order [$order], want [$want] (docs/sharding-and-shuffling.md, Seed 11)"
  seen_orders[$order]=1
  cmp -s "$tmp/got2a/train_$e" "$tmp/got2b/train_$e" || fail "2: epoch $e differs between two runs of the same job: [$order] vs [$(order_of "$tmp/got2b/train_$e")]"
  mapfile -t perm_files < <(for i in $order; do echo "${data_files[$i]}"; done)
  check expect "$tmp/got2a/train_$e" "2: epoch $e" recordio "${perm_files[@]}" || fail "2: FIFO bytes (above)"
done
((${#seen_orders[@]} == 3)) || fail "2: the 3 epochs have only ${#seen_orders[@]} different orders"

# --- 3. 2 hosts, ShardedByS3Key + ShuffleConfig ------------------------------------------------------
note "3. 2 hosts, ShardedByS3Key, ShuffleConfig Seed 11, RecordIO, 3 epochs"
job=pipe-shard-$$-$RANDOM
make_job "$job" "$tmp/j3.json" "[$(channel train S3Prefix "$data_uri" RecordIO ShardedByS3Key "$shuffled")]" "$(reader train:3)" 2
run_job "3: a 2-host sharded Pipe job" "$tmp/j3.json" "$tmp/w3"
declare -A share_sets=()
for h in algo-1 algo-2; do
  check common "$tmp/w3/$job/$h/model/$h/report.json" train:RecordIO:ShardedByS3Key || fail "3: $h's view (above)"
done
for e in 0 1 2; do
  read -r -a want <<<"$(check perm 12 11 "$e")"
  s1=$(order_of "$tmp/w3/$job/algo-1/model/algo-1/train_$e")
  s2=$(order_of "$tmp/w3/$job/algo-2/model/algo-2/train_$e")
  union=$(tr ' ' '\n' <<<"$s1 $s2" | sort -n | tr '\n' ' ')
  [[ $union == "0 1 2 3 4 5 6 7 8 9 10 11 " ]] || fail "3: epoch $e: algo-1 [$s1] and algo-2 [$s2] are not disjoint or do not cover the 12 objects"
  w1=(); w2=(); for k in "${!want[@]}"; do if ((k % 2 == 0)); then w1+=("${want[$k]}"); else w2+=("${want[$k]}"); fi; done
  [[ $s1 == "${w1[*]}" && $s2 == "${w2[*]}" ]] || fail "3: epoch $e: algo-1 [$s1], algo-2 [$s2]; want [${w1[*]}] and [${w2[*]}] (the epoch's order dealt round robin)"
  share_sets[$(tr ' ' '\n' <<<"$s1" | sort -n | tr '\n' ' ')]=1
done
((${#share_sets[@]} > 1)) || fail "3: algo-1 got the same objects in all 3 epochs (ShuffleConfig reshuffles across hosts every epoch)"

# --- 4. AugmentedManifestFile ------------------------------------------------------------------------
note "4. AugmentedManifestFile [source-ref, label], RecordIO, 2 epochs; a line without label fails"
for i in 0 1 2 3; do rand_file "$tmp/src/aug/img$i.bin" $((i * 1111 + 2)); done
"$sluice" cp -q -r "$tmp/src/aug" "s3://$bucket/aug" || fail "upload failed"
# Lines: attributes in any order, other attributes ignored; the labels' text as SageMaker sends it.
python3 - "$bucket" "$tmp/src/aug" "$tmp/aug.jsonl" "$tmp/aug_want.json" "$tmp/aug_bad.jsonl" <<'PY'
import base64, json, sys
bucket, src, out, want_out, bad_out = sys.argv[1:]
ref = lambda i: f"s3://{bucket}/aug/img{i}.bin"
lines = [
    (f'{{"source-ref": "{ref(0)}", "label": 1}}', 0, "1"),
    (f'{{"label": "cat", "other": [1, 2], "source-ref": "{ref(1)}"}}', 1, "cat"),
    (f'{{"source-ref": "{ref(2)}", "x": {{"y": "label"}}, "label": 2.50}}', 2, "2.50"),
    (f'{{"extra": "q", "source-ref": "{ref(3)}", "label": "caf\\u00e9 \\"q\\""}}', 3, 'café "q"'),
    (f'{{"source-ref": "{ref(0)}", "label": -7}}', 0, "-7"),
    (f'{{"label": 1e3, "source-ref": "{ref(2)}"}}', 2, "1e3"),
]
open(out, "w").write("".join(l + "\n" for l, _, _ in lines))
want = []
for _, i, label in lines:
    want.append(base64.b64encode(open(f"{src}/img{i}.bin", "rb").read()).decode())
    want.append(base64.b64encode(label.encode()).decode())
json.dump(want, open(want_out, "w"))
bad = [l for l, _, _ in lines]
bad[2] = f'{{"source-ref": "{ref(2)}", "labels": 2}}'   # line 3: no "label"
open(bad_out, "w").write("".join(l + "\n" for l in bad))
PY
"$sluice" cp -q "$tmp/aug.jsonl" "s3://$bucket/manifests/aug.jsonl"
"$sluice" cp -q "$tmp/aug_bad.jsonl" "s3://$bucket/manifests/aug_bad.jsonl"
attrs='"AttributeNames": ["source-ref", "label"]'
job=pipe-aug-$$-$RANDOM
make_job "$job" "$tmp/j4.json" "[$(channel train AugmentedManifestFile "s3://$bucket/manifests/aug.jsonl" RecordIO FullyReplicated "" "$attrs")]" \
  "$(reader train:2)"
run_job "4: an AugmentedManifestFile Pipe job" "$tmp/j4.json" "$tmp/w4"
got=$tmp/w4/$job/algo-1/model/algo-1
check common "$got/report.json" train:RecordIO:FullyReplicated || fail "4: the job's view (above)"
for e in 0 1; do
  check expect_payloads "$got/train_$e" "4: epoch $e" "$tmp/aug_want.json" || fail "4: FIFO bytes (above)"
done
job=pipe-aug-bad-$$-$RANDOM
make_job "$job" "$tmp/j4b.json" "[$(channel train AugmentedManifestFile "s3://$bucket/manifests/aug_bad.jsonl" RecordIO FullyReplicated "" "$attrs")]" \
  "$(reader train:2)"
train rc "$tmp/j4b.json" --work-dir "$tmp/w4"
# The spec is valid, the data is not: a Failed job, exit 1 (docs/train.md's table: exit 2 is for a
# spec refused before any job directory exists).
expect_rc "$rc" 1 "4: an augmented manifest whose line 3 lacks 'label'"
status_is "$tmp/w4" "$job" Failed Failed
reason=$(json_get "$tmp/w4/$job/status.json" 'd.get("FailureReason") or ""')
[[ $reason == *"line 3"* && $reason == *"'label'"* ]] || fail "4: FailureReason does not name line 3 and 'label': $reason"
if ! grep -q "line 3" "$tmp/train.err" || ! grep -q "'label'" "$tmp/train.err"; then
  show_train_log; fail "4: stderr does not name line 3 and 'label'"
fi
[[ ! -e $tmp/w4/$job/algo-1/model/algo-1 ]] || fail "4: the command ran although the manifest is invalid"

# --- 5. CompressionType Gzip -------------------------------------------------------------------------
note "5. CompressionType Gzip, None and RecordIO"
python3 - "$tmp/src/gz" "$tmp/plain-gz" <<'PY'
import gzip, os, sys
gz, plain = sys.argv[1], sys.argv[2]
os.makedirs(gz); os.makedirs(plain)
objs = {
    "g1.gz": [os.urandom(3001)],
    "g2.gz": [b""],                                           # an empty file, gzip'd
    "g3.gz": [b"first member\n", os.urandom(70000)],          # two gzip members in one object
    "g4.gz": [os.urandom(300000) + b"\0" * 400000],           # compresses, larger than one read
}
for name, members in objs.items():
    open(f"{gz}/{name}", "wb").write(b"".join(gzip.compress(m) for m in members))
    open(f"{plain}/{name}", "wb").write(b"".join(members))
PY
"$sluice" cp -q -r "$tmp/src/gz" "s3://$bucket/gz" || fail "upload failed"
gz_files=("$tmp/plain-gz/g1.gz" "$tmp/plain-gz/g2.gz" "$tmp/plain-gz/g3.gz" "$tmp/plain-gz/g4.gz")
gzip='"CompressionType": "Gzip"'
job=pipe-gzip-$$-$RANDOM
make_job "$job" "$tmp/j5.json" "[$(channel plain S3Prefix "s3://$bucket/gz/" None FullyReplicated "$gzip"),
  $(channel rio S3Prefix "s3://$bucket/gz/" RecordIO FullyReplicated "$gzip")]" "$(reader plain:1 rio:1)"
run_job "5: a Gzip Pipe job" "$tmp/j5.json" "$tmp/w5"
got=$tmp/w5/$job/algo-1/model/algo-1
check common "$got/report.json" plain:None:FullyReplicated rio:RecordIO:FullyReplicated || fail "5: the job's view (above)"
check expect "$got/plain_0" "5: plain (Gzip, None)" none "${gz_files[@]}" || fail "5: FIFO bytes (above)"
check expect "$got/rio_0" "5: rio (Gzip, RecordIO)" recordio "${gz_files[@]}" || fail "5: FIFO bytes (above)"

# --- 6. part of epoch 0, then epoch 1 ----------------------------------------------------------------
note "6. 1000 bytes of epoch 0, closed early, then epoch 1 fully"
job=pipe-partial-$$-$RANDOM
make_job "$job" "$tmp/j6.json" "[$(channel train S3Prefix "$data_uri" None)]" "$(reader train:2 --partial train:0:1000)"
run_job "6: a job that closes epoch 0 early" "$tmp/j6.json" "$tmp/w6"
got=$tmp/w6/$job/algo-1/model/algo-1
check common "$got/report.json" train:None:FullyReplicated || fail "6: the job's view (above)"
check expect "$got/train_0" "6: epoch 0 (1000 bytes)" none --prefix 1000 "${data_files[@]}" || fail "6: FIFO bytes (above)"
check expect "$got/train_1" "6: epoch 1" none "${data_files[@]}" || fail "6: FIFO bytes (above)"

# --- 7. two channels at the same time ----------------------------------------------------------------
note "7. two channels read at the same time (two threads)"
job=pipe-threads-$$-$RANDOM
make_job "$job" "$tmp/j7.json" "[$(channel one S3Prefix "$data_uri" None), $(channel two S3Prefix "$data_uri" RecordIO)]" \
  "$(reader one:2 two:2 --threads)"
run_job "7: two channels read concurrently" "$tmp/j7.json" "$tmp/w7"
got=$tmp/w7/$job/algo-1/model/algo-1
check common "$got/report.json" one:None:FullyReplicated two:RecordIO:FullyReplicated || fail "7: the job's view (above)"
for e in 0 1; do
  check expect "$got/one_$e" "7: one epoch $e" none "${data_files[@]}" || fail "7: FIFO bytes (above)"
  check expect "$got/two_$e" "7: two epoch $e" recordio "${data_files[@]}" || fail "7: FIFO bytes (above)"
done

# --- 8. the FIFO is never opened ---------------------------------------------------------------------
note "8. a script that never opens its FIFO and exits 0"
job=pipe-noopen-$$-$RANDOM
token=e2e-pipe-noopen-$$-$RANDOM; tokens+=("$token")
make_job "$job" "$tmp/j8.json" "[$(channel train S3Prefix "$data_uri" RecordIO)]" "$(reader train:2 --no-open --token "$token")"
t0=$(date +%s%N)
run_job "8: a job that never opens its FIFO" "$tmp/j8.json" "$tmp/w8"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 15000)) || fail "8: the job took $ms ms although its script exits at once"
check common "$tmp/w8/$job/algo-1/model/algo-1/report.json" train:RecordIO:FullyReplicated || fail "8: the job's view (above)"
[[ -z $(pids_with_token "$token") ]] || fail "8: processes of the job are still running: $(pids_with_token "$token")"
left=$(find "$tmp/w8/$job" -type p)
[[ -z $left ]] || fail "8: FIFOs left after the job: $left"
note "8: the job took $ms ms"

# --- 9. ManifestFile ---------------------------------------------------------------------------------
note "9. ManifestFile in Pipe mode: manifest order"
listed=("x y.bin" "a/b.bin" "b.bin" "A.bin" "über.bin" "a-b.bin" "Z9.bin")
python3 - "$data_uri" "${listed[@]}" > "$tmp/manifest.json" <<'PY'
import json, sys
print(json.dumps([{"prefix": sys.argv[1]}] + sys.argv[2:], ensure_ascii=False))
PY
"$sluice" cp -q "$tmp/manifest.json" "s3://$bucket/manifests/m.json"
listed_files=(); for k in "${listed[@]}"; do listed_files+=("$tmp/src/data/$k"); done
job=pipe-manifest-$$-$RANDOM
make_job "$job" "$tmp/j9.json" "[$(channel plain ManifestFile "s3://$bucket/manifests/m.json" None),
  $(channel rio ManifestFile "s3://$bucket/manifests/m.json" RecordIO)]" "$(reader plain:2 rio:1)"
run_job "9: a ManifestFile Pipe job" "$tmp/j9.json" "$tmp/w9"
got=$tmp/w9/$job/algo-1/model/algo-1
check common "$got/report.json" plain:None:FullyReplicated rio:RecordIO:FullyReplicated || fail "9: the job's view (above)"
for e in 0 1; do
  check expect "$got/plain_$e" "9: plain epoch $e" none "${listed_files[@]}" || fail "9: FIFO bytes (above)"
done
check expect "$got/rio_0" "9: rio epoch 0" recordio "${listed_files[@]}" || fail "9: FIFO bytes (above)"

note "took $(($(date +%s) - t_start)) s"
echo "train_pipe: ok"
