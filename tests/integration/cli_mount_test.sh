#!/usr/bin/env bash
# `sluice mount` against the real store, what a reader sees (docs/cli.md, FastFile):
#  1. a nested dataset (names with spaces, unicode, '+', '%', '#', '?', a 0-byte file): every file's
#     bytes, `ls -R`, `find`, `stat` sizes and mtimes, the directories and `du -sb` match the source
#     and the listing;
#  2. 1,000 seeded random preads (500 under a sanitizer) of a 256 MiB object (1 B .. 2 MiB, across 1 MiB block boundaries, at
#     and past the end) equal the source, through the page cache and with --direct-io;
#  3. 8 readers at once (different files, the big file at different offsets) are byte-exact;
#  4. the mount is read-only: create, write, append, truncate, mkdir, rmdir, rm, mv, touch, chmod,
#     chown, ln fail with "Read-only file system" and change nothing;
#  8. --cache: a second read of a 20 MiB file (--direct-io, caches dropped, memory too small to hold
#     it) fetches nothing from the store; blocks are in the cache directory while mounted, its
#     private subdirectory is gone after unmount; --max-cache-size bounds it;
#  9. --max-memory 64M: a sequential read of the 256 MiB object is exact and the peak memory the
#     mount reports at unmount stays within 64 MiB + one request (8 MiB, see below).
# Lifecycle, errors, unsafe keys and a changed object: cli_mount_faults_test.sh.
WATCHDOG_S=${WATCHDOG_S:-240}
# shellcheck source-path=SCRIPTDIR source=cli_mount_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_mount_lib.sh"
MiB=$((1 << 20))
started=$SECONDS

cat >"$tmp/check.py" <<'EOF'
import calendar, os, random, re, sys, time
MiB = 1 << 20

def gen(root):
    """~200 files, 0..300 KiB, up to 3 directories deep, awkward names, two 0-byte files."""
    rng = random.Random(20240611)
    dirs = ["dir one", "ünïcödé", "日本", "p+q", "50%", "%41", "x%2Fy", "#h", "a b+c", "émoji 🚀"]
    names = ["plain", "with space", "ünï", "数据", "a+b", "100%", "%20", "q?x=1&y=2", "#frag", "it's",
             "(paren)", "[br]", "semi;colon", "eq=", "comma,", "tilde~", "star*", "🚀"]
    files = {"empty": b"", "dir one/empty too": b""}
    for i in range(200):
        depth = rng.randint(0, 3)
        parts = [rng.choice(dirs) for _ in range(depth)]
        name = "%s-%d%s" % (rng.choice(names), i, rng.choice(["", ".bin", ".txt", " .dat"]))
        files["/".join(parts + [name])] = rng.randbytes(rng.randint(0, 300 * 1024))
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

def expect(listing, prefix, out):
    """From `sluice ls -r` output: files, "path size", "path mtime", directories, total bytes."""
    files = {}
    for line in open(listing, encoding="utf-8"):
        m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +(\d+) (.*)$", line.rstrip("\n"))
        if not m:
            sys.exit("unexpected ls line: %r" % line)
        key = m.group(3)
        assert key.startswith(prefix), key
        mtime = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
        files[key[len(prefix):]] = (int(m.group(2)), mtime)
    dirs = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
    def write(name, lines):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.writelines(l + "\n" for l in sorted(lines, key=lambda s: s.encode()))
    write("files", files)
    write("sizes", ["%s %d" % (p, s) for p, (s, _) in files.items()])
    write("mtimes", ["%s %d" % (p, t) for p, (_, t) in files.items()])
    write("dirs", dirs)
    with open(os.path.join(out, "total"), "w") as f:
        f.write("%d\n" % sum(s for s, _ in files.values()))

def randread(mnt, local, seed, count):
    """count seeded preads; each must return exactly what the source file has there."""
    rng = random.Random(seed)
    fm, fl = os.open(mnt, os.O_RDONLY), os.open(local, os.O_RDONLY)
    size = os.fstat(fl).st_size
    if os.fstat(fm).st_size != size:
        sys.exit("%s: size %d, source %d" % (mnt, os.fstat(fm).st_size, size))
    bad, kinds = [], {}
    for i in range(count):
        k = rng.random()
        if k < 0.25:    # small, anywhere
            kind, length = "small", rng.randint(1, 4096)
            off = rng.randrange(size)
        elif k < 0.55:  # up to 2 MiB, anywhere
            kind, length = "large", rng.randint(1, 2 * MiB)
            off = rng.randrange(size)
        elif k < 0.85:  # across a 1 MiB boundary (a block edge)
            kind, length = "cross", rng.randint(2, 2 * MiB)
            b = rng.randint(1, size // MiB - 1) * MiB
            off = max(0, b - rng.randint(1, length - 1))
        else:           # at the very end: up to, across and past EOF
            kind, length = "end", rng.randint(1, 2 * MiB)
            off = size - rng.randint(0, 2 * MiB) if rng.random() < 0.9 else size + rng.randint(0, 4096)
        kinds[kind] = kinds.get(kind, 0) + 1
        got, want = os.pread(fm, length, off), os.pread(fl, length, off)
        if got != want:
            first = next((j for j in range(min(len(got), len(want))) if got[j] != want[j]), min(len(got), len(want)))
            bad.append("read %d (%s) offset %d length %d: got %d bytes, expected %d, first difference at +%d"
                       % (i, kind, off, length, len(got), len(want), first))
    if bad:
        sys.exit("%s: %d of %d reads differ from the source:\n  %s" % (mnt, len(bad), count, "\n  ".join(bad[:10])))
    print("%s: %d random reads ok %s" % (mnt, count, sorted(kinds.items())))

def region(mnt, local, off, length, bs):
    """Reads [off, off+length) in bs-byte reads, sequentially; compares every read."""
    fm, fl = os.open(mnt, os.O_RDONLY), os.open(local, os.O_RDONLY)
    end = off + length
    while off < end:
        n = min(bs, end - off)
        got, want = os.pread(fm, n, off), os.pread(fl, n, off)
        if got != want:
            sys.exit("%s: %d bytes at offset %d differ from the source (got %d bytes)" % (mnt, n, off, len(got)))
        off += n

def files(mnt_root, local_root, part, parts):
    """Every parts-th file of the tree (from part), whole, equal to the source."""
    all_files = sorted(os.path.relpath(os.path.join(d, f), local_root)
                       for d, _, fs in os.walk(local_root) for f in fs)
    for rel in all_files[part::parts]:
        with open(os.path.join(mnt_root, rel), "rb") as a, open(os.path.join(local_root, rel), "rb") as b:
            if a.read() != b.read():
                sys.exit("%s differs from the source" % os.path.join(mnt_root, rel))

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "gen": gen(*args)
elif cmd == "expect": expect(*args)
elif cmd == "randread": randread(args[0], args[1], int(args[2]), int(args[3]))
elif cmd == "region": region(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
elif cmd == "files": files(args[0], args[1], int(args[2]), int(args[3]))
else: sys.exit("unknown command " + cmd)
EOF
check() { python3 "$tmp/check.py" "$@"; }

# sha256 of every file under $1, by relative path, in byte order.
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | t 120 xargs -0 -r sha256sum); }

# The "unmounted ...: N requests, X fetched, Y served, peak memory Z" line of a --log-file, as
# "N FETCHED_BYTES SERVED_BYTES PEAK_BYTES".
unmount_stats() {
  local line
  line=$(grep -E 'unmounted .*: [0-9]+ requests, ' "$1" | tail -1) || fail "no unmount statistics in $1: $(cat "$1")"
  [[ $line =~ :\ ([0-9]+)\ requests,\ ([0-9.]+)\ ([KMGT]?i?B)\ fetched,\ ([0-9.]+)\ ([KMGT]?i?B)\ served,\ peak\ memory\ ([0-9.]+)\ ([KMGT]?i?B) ]] ||
    fail "cannot parse the unmount statistics: $line"
  echo "${BASH_REMATCH[1]} $(to_bytes "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}") $(to_bytes "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}") $(to_bytes "${BASH_REMATCH[6]}" "${BASH_REMATCH[7]}")"
}

# ------------------------------------------------------------------------------------------------
# The data: ds/ (the nested dataset), big/big.bin (256 MiB), mid/mid.bin (20 MiB).
src=$tmp/src
mkdir -p "$src/ds" "$src/big" "$src/mid"
check gen "$src/ds"
head -c $((256 * MiB)) /dev/urandom >"$src/big/big.bin"
head -c $((20 * MiB)) /dev/urandom >"$src/mid/mid.bin"
make_bucket
for d in ds big mid; do
  t 180 "$sluice" cp -r -q "$src/$d" "s3://$bucket/$d/" || fail "uploading $d failed"
done
echo "uploaded ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 1. The nested dataset: bytes, names, sizes, mtimes, directories, du.
m=$tmp/m-ds
start_mount "$m" mount "s3://$bucket/ds/" "$m"
nfiles=$(find "$src/ds" -type f | wc -l)
grep -q "mounted s3://$bucket/ds/ at $m ($nfiles files" "$tmp/stderr-of-m-ds" ||
  fail "unexpected mount message: $(cat "$tmp/stderr-of-m-ds")"
t 60 "$sluice" ls -r "s3://$bucket/ds/" >"$tmp/listing" || fail "sluice ls -r failed"
mkdir "$tmp/expect"
check expect "$tmp/listing" ds/ "$tmp/expect"
[[ $(wc -l <"$tmp/expect/files") == "$nfiles" ]] || fail "the listing has $(wc -l <"$tmp/expect/files") files, expected $nfiles"

tree_sums "$m" >"$tmp/sums.mnt" || fail "reading the mounted tree failed"
tree_sums "$src/ds" >"$tmp/sums.src"
diff "$tmp/sums.src" "$tmp/sums.mnt" >&2 || fail "the mounted files differ from the source (sha256 above)"
diff <(cd "$src/ds" && ls -R) <(cd "$m" && t 30 ls -R) >&2 || fail "ls -R of the mount differs from the source's"
diff "$tmp/expect/files" <(cd "$m" && t 30 find . -type f | sed 's|^\./||' | sort) >&2 ||
  fail "find -type f differs from the listing"
diff "$tmp/expect/sizes" <(cd "$m" && t 30 find . -type f -exec stat -c '%n %s' {} + | sed 's|^\./||' | sort) >&2 ||
  fail "stat sizes differ from the listing"
diff "$tmp/expect/mtimes" <(cd "$m" && t 30 find . -type f -exec stat -c '%n %Y' {} + | sed 's|^\./||' | sort) >&2 ||
  fail "file mtimes differ from the listing's LastModified"
diff "$tmp/expect/dirs" <(cd "$m" && t 30 find . -mindepth 1 -type d | sed 's|^\./||' | sort) >&2 ||
  fail "the directories differ from the listing's prefixes"
[[ -z $(cd "$m" && t 30 find . ! -type f ! -type d) ]] || fail "the mount shows entries that are neither files nor directories"
# A directory's mtime is the newest below it: never 0.
zero=$(cd "$m" && t 30 find . -type d -exec stat -c '%Y %n' {} + | awk '$1 <= 0')
[[ -z $zero ]] || fail "directories with no mtime: $zero"
du_total=$(t 30 du -sb "$m" | cut -f1)
[[ $du_total == "$(cat "$tmp/expect/total")" ]] || fail "du -sb says $du_total, the listing sums to $(cat "$tmp/expect/total")"
[[ $(stat -c %s "$m/empty") == 0 && -z $(cat "$m/empty") ]] || fail "the 0-byte file is not empty"
echo "1. nested dataset: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 4. Read-only: every change fails with EROFS and changes nothing (here and in the store).
f="$m/dir one/empty too"
g=$(cd "$m" && find . -type f -size +1k | sed 's|^\./||' | grep -v "'" | sort | sed -n 1p)
g="$m/$g"
snapshot() { (cd "$m" && find . -printf '%p %s %T@ %m %U %y\n' | sort && tree_sums .); }
snapshot >"$tmp/before"
while IFS= read -r op; do
  rc=0
  t 10 bash -c "$op" </dev/null >"$tmp/op.out" 2>&1 || rc=$?
  [[ $rc != 0 && $rc != 124 && $rc != 137 ]] || fail "'$op' under the mount exited $rc"
  grep -q 'Read-only file system' "$tmp/op.out" || fail "'$op' did not fail with EROFS: $(cat "$tmp/op.out")"
done <<EOF
: > '$m/new-file'
echo x > '$g'
echo x >> '$g'
dd if=/dev/zero of='$g' bs=1 count=1 conv=notrunc status=none
truncate -s 0 '$g'
mkdir '$m/new-dir'
mkdir '$m/dir one/new-dir'
rmdir '$m/dir one'
rm '$g'
rm -r '$m/dir one'
mv '$g' '$m/renamed'
mv '$m/dir one' '$m/dir two'
touch '$g'
touch '$m/new-touched'
chmod 777 '$g'
chmod 700 '$m/dir one'
chown 1:1 '$g'
ln -s target '$m/symlink'
ln '$g' '$m/hardlink'
cp '$src/mid/mid.bin' '$m/'
EOF
snapshot >"$tmp/after"
diff "$tmp/before" "$tmp/after" >&2 || fail "the mounted tree changed after the refused writes"
[[ ! -e $m/new-file && ! -e $m/renamed && ! -e $m/symlink ]] || fail "a refused create left something"
t 60 "$sluice" ls -r "s3://$bucket/ds/" >"$tmp/listing.after" || fail "sluice ls -r failed"
diff "$tmp/listing" "$tmp/listing.after" >&2 || fail "the store changed after writes to the mount"
ls "$f" >/dev/null || fail "the mount stopped answering after the refused writes"
stop_mount "$m" "$MOUNT_PID"
echo "4. read-only: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 3. Eight readers at once, on a fresh mount of the whole bucket: four read a different quarter of
# the dataset, four read 24 MiB regions of big.bin at different offsets (one ends at EOF, two are
# not block-aligned).
m=$tmp/m-all
start_mount "$m" mount "s3://$bucket/" "$m"
pids=()
for i in 0 1 2 3; do
  t 150 python3 "$tmp/check.py" files "$m/ds" "$src/ds" "$i" 4 &
  pids+=($!)
done
for off in 0 $((64 * MiB + 123)) $((128 * MiB + 4095)) $((232 * MiB)); do
  t 150 python3 "$tmp/check.py" region "$m/big/big.bin" "$src/big/big.bin" "$off" $((24 * MiB)) $((128 * 1024 + 17)) &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p" || fail "a concurrent reader failed (exit $?; its message is above)"
done
echo "3. 8 concurrent readers: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 2. Random reads of the 256 MiB object: on this mount (page cache; part of the file is already in
# memory) after dropping the caches, and on a cold --direct-io mount (every read reaches sluice).
# A sanitizer build (SLOWDOWN, cli_mount_lib.sh) does half as many: its point is the races, which
# 500 reads of each kind find as well as 1,000.
reads=$((1000 / SLOWDOWN))
drop_caches
t 240 python3 "$tmp/check.py" randread "$m/big/big.bin" "$src/big/big.bin" 1 "$reads" || fail "random reads (page cache)"
stop_mount "$m" "$MOUNT_PID"
m=$tmp/m-dio
start_mount "$m" mount "s3://$bucket/big/" "$m" --direct-io
t 240 python3 "$tmp/check.py" randread "$m/big.bin" "$src/big/big.bin" 2 "$reads" || fail "random reads (--direct-io)"
stop_mount "$m" "$MOUNT_PID"
echo "2. random reads: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 9. --max-memory 64M: a sequential read of 256 MiB is exact and stays within the budget. A read
# that needs a block waits for budget rather than failing, and a demand fetch may go over the
# budget by at most one request (max_request, 8 MiB): the bound checked is 64 MiB + 8 MiB.
m=$tmp/m-mem
start_mount "$m" --log-level info mount "s3://$bucket/big/" "$m" --max-memory 64M --log-file "$tmp/mem.log"
want=$(sha256sum <"$src/big/big.bin" | cut -d' ' -f1)
got=$(t 180 sha256sum <"$m/big.bin" | cut -d' ' -f1) || fail "reading big.bin with --max-memory 64M failed"
[[ $got == "$want" ]] || fail "big.bin read with --max-memory 64M differs from the source"
stop_mount "$m" "$MOUNT_PID"
read -r requests fetched served peak <<<"$(unmount_stats "$tmp/mem.log")"
((fetched >= 256 * MiB)) || fail "--max-memory 64M: only $fetched bytes fetched for a 256 MiB read"
((peak > 0 && peak <= (64 + 8) * MiB)) || fail "--max-memory 64M: peak memory $peak bytes, more than 64 MiB + 8 MiB"
echo "9. --max-memory 64M: ok (peak $((peak / 1024)) KiB, $requests requests; $((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 8. --cache. The memory budget (8 MiB) cannot hold the 20 MiB file, so a second read must come
# from the disk cache or the store: the control mount (no --cache) fetches it twice, the cached one
# once.
read_twice() {   # read_twice MNT: reads mid.bin, drops caches, reads it again; both exact.
  local want i
  want=$(sha256sum <"$src/mid/mid.bin" | cut -d' ' -f1)
  for i in 1 2; do
    [[ $(t 60 sha256sum <"$1/mid.bin" | cut -d' ' -f1) == "$want" ]] || fail "read $i of $1/mid.bin differs from the source"
    if [[ $i == 1 && -n ${2:-} ]]; then "$2"; fi
    drop_caches
  done
}
m=$tmp/m-nocache
start_mount "$m" --log-level info mount "s3://$bucket/mid/" "$m" --direct-io --max-memory 8M --log-file "$tmp/nocache.log"
read_twice "$m"
stop_mount "$m" "$MOUNT_PID"
read -r requests fetched served peak <<<"$(unmount_stats "$tmp/nocache.log")"
((fetched >= 40 * MiB)) || fail "without --cache a second read fetched nothing ($fetched bytes in all): the test proves nothing"

file_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
cache=$tmp/cache
mkdir "$cache"
m=$tmp/m-cache
start_mount "$m" --log-level info mount "s3://$bucket/mid/" "$m" --direct-io --max-memory 8M --cache "$cache" \
  --log-file "$tmp/cache.log"
cache_has_blocks() {   # blocks are written to the cache in the background: wait up to 10 s for all 20
  local n bytes tries=0
  while :; do
    n=$(find "$cache" -mindepth 2 -type f | wc -l)
    bytes=$(file_bytes "$cache")
    ((n >= 20 && bytes >= 20 * MiB || ++tries > 100)) && break
    sleep 0.1
  done
  ((n >= 20 && bytes >= 20 * MiB)) || fail "after a 20 MiB read the cache holds $n files, $bytes bytes: $(find "$cache" | sed -n 1,10p)"
  [[ $(find "$cache" -mindepth 1 -maxdepth 1 | wc -l) == 1 && -n $(find "$cache" -mindepth 1 -maxdepth 1 -name "sluice-cache-$MOUNT_PID-*") ]] ||
    fail "the cache directory should hold one sluice-cache-$MOUNT_PID-* directory: $(ls -A "$cache")"
}
read_twice "$m" cache_has_blocks
stop_mount "$m" "$MOUNT_PID"
read -r requests fetched served peak <<<"$(unmount_stats "$tmp/cache.log")"
((fetched == 20 * MiB)) || fail "with --cache two reads of 20 MiB fetched $fetched bytes from the store, expected 20 MiB once"
((served >= 40 * MiB)) || fail "with --cache the mount served $served bytes for two reads of 20 MiB"
[[ -z $(ls -A "$cache") ]] || fail "the cache's private directory is still there after unmount: $(ls -A "$cache")"

# --max-cache-size 4M: the cache never holds more than that (a block file has a small header).
cache=$tmp/cache-small
mkdir "$cache"
m=$tmp/m-cache-small
start_mount "$m" mount "s3://$bucket/mid/" "$m" --direct-io --max-memory 8M --cache "$cache" --max-cache-size 4M
[[ $(t 60 sha256sum <"$m/mid.bin" | cut -d' ' -f1) == "$(sha256sum <"$src/mid/mid.bin" | cut -d' ' -f1)" ]] ||
  fail "mid.bin read with --max-cache-size 4M differs from the source"
bytes=$(file_bytes "$cache")
((bytes > 0 && bytes <= 4 * MiB + 64 * 1024)) || fail "--max-cache-size 4M: the cache holds $bytes bytes"
stop_mount "$m" "$MOUNT_PID"
[[ -z $(ls -A "$cache") ]] || fail "the cache's private directory is still there after unmount: $(ls -A "$cache")"
echo "8. --cache: ok ($((SECONDS - started)) s)"

echo "mount: ok ($((SECONDS - started)) s)"
