// `sluice cp` and `sluice ls` as a user runs them: the real binary ($SLUICE_BINARY), spawned with
// the store's environment, against the real store (ctest's local_s3 fixture). Each test makes its
// own bucket and temporary directories and removes them again, also when it fails.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1ull << 20;

nlohmann::json json_summary(const ProcResult& r) {
  // The summary is the last non-empty line of stdout.
  std::string line;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) line = l;
  }
  try {
    return nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "no JSON summary on stdout (" << e.what() << "): " << r.describe();
    return nlohmann::json::object();
  }
}

uint64_t json_u64(const nlohmann::json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_number_unsigned()) {
    ADD_FAILURE() << "the JSON summary has no number '" << name << "': " << j.dump();
    return ~0ull;
  }
  return j[name].get<uint64_t>();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A local tree of 50 files: nested directories, 0-byte files, sizes around the 8 MiB part size,
// one 20 MiB file, names with spaces, unicode and punctuation. Returns relative path -> bytes.
std::map<std::string, std::string> make_tree(const std::string& root) {
  std::map<std::string, std::string> files;
  uint64_t seed = 100;
  auto add = [&](const std::string& rel, size_t size) { files[rel] = random_bytes(size, seed++); };
  add("top.txt", 100);
  add("empty.bin", 0);
  add("with space.txt", 1000);
  add("caf\xC3\xA9.txt", 4096);                                          // café
  add("\xE6\x97\xA5\xE6\x9C\xAC/\xE3\x83\x87\xE3\x83\xBC\xE3\x82\xBF 1.bin", 65536);  // 日本/データ 1.bin
  add("emoji \xF0\x9F\x98\x80/x.bin", 10);                              // emoji 😀/
  add("punct/k=v&x+y~z.txt", 333);
  add("punct/100% sure.txt", 12);
  add("a/b/c/deep.bin", kMiB + 7);
  add("a/b/c/zero", 0);
  add("a/b/empty too", 0);
  add("a/eight-mib.bin", 8 * kMiB);
  add("a/eight-mib-plus-one.bin", 8 * kMiB + 1);
  add("a/eight-mib-minus-one.bin", 8 * kMiB - 1);
  add("big/twenty.bin", 20 * kMiB);
  for (int i = 0; files.size() < 50; ++i) {
    add(fmt::format("gen/d{}/file {:02}.dat", i % 4, i), static_cast<size_t>((i * 7919) % 70000));
  }
  for (const auto& [rel, data] : files) write_file(root + "/" + rel, data);
  return files;
}

std::map<std::string, FileFacts> facts_of(const std::map<std::string, std::string>& files) {
  std::map<std::string, FileFacts> out;
  for (const auto& [rel, data] : files) out[rel] = FileFacts{data.size(), sha256_hex(data)};
  return out;
}

// ------------------------------------------------------------------------------------------------

TEST(CliCp, RecursiveUploadListAndDownloadRoundTrip) {
  TestBucket b("cp");
  TempDir tmp;
  const std::string src = tmp / "src";
  const auto files = make_tree(src);
  ASSERT_EQ(files.size(), 50u);
  const auto want = facts_of(files);
  ASSERT_EQ(snapshot_tree(src), want);

  // Upload.
  auto up = run_sluice({"cp", "-r", "--json", src, b.uri("data/")}, store_env());
  ASSERT_EQ(up.exit_code, 0) << up.describe();
  auto upj = json_summary(up);
  EXPECT_EQ(json_u64(upj, "objects"), 50u) << upj.dump();
  EXPECT_EQ(json_u64(upj, "failed_objects"), 0u) << upj.dump();

  // The store holds exactly the tree's files under the prefix.
  std::map<std::string, uint64_t> stored;
  for (const auto& o : store::list_all(b.store(), "")) stored[o.key] = o.size;
  std::map<std::string, uint64_t> want_stored;
  for (const auto& [rel, data] : files) want_stored["data/" + rel] = data.size();
  EXPECT_EQ(stored, want_stored);

  // `ls -r` lists every key with its size.
  auto ls = run_sluice({"ls", "-r", b.uri("data/")}, store_env());
  ASSERT_EQ(ls.exit_code, 0) << ls.describe();
  auto ls_lines = lines_of(ls.out);
  EXPECT_EQ(ls_lines.size(), files.size()) << ls.out;
  for (const auto& [key, size] : want_stored) {
    std::string suffix = fmt::format("{} {}", size, key);
    bool found = std::any_of(ls_lines.begin(), ls_lines.end(), [&](const std::string& l) { return l.ends_with(" " + suffix); });
    EXPECT_TRUE(found) << "`ls -r` does not list '" << key << "' (" << size << " bytes):\n" << ls.out;
  }
  // `ls` (one level) shows the directories as PRE and the top-level files by name.
  auto ls1 = run_sluice({"ls", b.uri("data/")}, store_env());
  ASSERT_EQ(ls1.exit_code, 0) << ls1.describe();
  auto l1 = lines_of(ls1.out);
  for (const char* dir : {"a/", "big/", "gen/", "punct/", "\xE6\x97\xA5\xE6\x9C\xAC/", "emoji \xF0\x9F\x98\x80/"}) {
    bool found = std::any_of(l1.begin(), l1.end(), [&](const std::string& l) {
      return l.find("PRE ") != std::string::npos && l.ends_with(std::string(" ") + dir);
    });
    EXPECT_TRUE(found) << "`ls` does not show PRE " << dir << ":\n" << ls1.out;
  }
  for (const char* name : {"top.txt", "empty.bin", "with space.txt", "caf\xC3\xA9.txt"}) {
    bool found = std::any_of(l1.begin(), l1.end(), [&](const std::string& l) { return l.ends_with(std::string(" ") + name); });
    EXPECT_TRUE(found) << "`ls` does not show " << name << ":\n" << ls1.out;
  }
  EXPECT_EQ(l1.size(), 6u + 4u) << ls1.out;

  // Download into a new directory: the same tree, byte for byte, and nothing else (no partial files).
  const std::string dst = tmp / "dst/new dir";
  auto down = run_sluice({"cp", "-r", b.uri("data/"), dst}, store_env());
  ASSERT_EQ(down.exit_code, 0) << down.describe();
  EXPECT_EQ(snapshot_tree(dst), want) << "the downloaded tree differs from the uploaded one";

  // A rerun skips everything.
  auto again = run_sluice({"cp", "-r", "--json", b.uri("data/"), dst}, store_env());
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  auto j = json_summary(again);
  EXPECT_EQ(json_u64(j, "skipped_objects"), 50u) << j.dump();
  EXPECT_EQ(json_u64(j, "objects"), 0u) << j.dump();
  EXPECT_EQ(json_u64(j, "failed_objects"), 0u) << j.dump();
  EXPECT_EQ(snapshot_tree(dst), want);

  // Without the trailing slash the prefix is still a directory: data/ only, not data2/.
  b.store().put("data2/not-this", store::Body::from_string("no"), {});
  const std::string dst2 = tmp / "dst2";
  auto down2 = run_sluice({"cp", "-r", b.uri("data"), dst2}, store_env());
  ASSERT_EQ(down2.exit_code, 0) << down2.describe();
  EXPECT_EQ(snapshot_tree(dst2), want);
}

TEST(CliCp, SingleObjectUploadAndDownload) {
  TestBucket b("cp1");
  TempDir tmp;
  const std::string data = random_bytes(3 * kMiB + 11, 7);
  write_file(tmp / "one file.bin", data);
  auto up = run_sluice({"cp", tmp / "one file.bin", b.uri("x/")}, store_env());
  ASSERT_EQ(up.exit_code, 0) << up.describe();
  EXPECT_EQ(b.store().head("x/one file.bin").size, data.size());
  // To a file name, and into an existing directory (base name kept).
  auto d1 = run_sluice({"cp", b.uri("x/one file.bin"), tmp / "copy.bin"}, store_env());
  ASSERT_EQ(d1.exit_code, 0) << d1.describe();
  EXPECT_EQ(sha256_of_file(tmp / "copy.bin"), sha256_hex(data));
  fs::create_directories(tmp / "into");
  auto d2 = run_sluice({"cp", b.uri("x/one file.bin"), tmp / "into"}, store_env());
  ASSERT_EQ(d2.exit_code, 0) << d2.describe();
  EXPECT_EQ(sha256_of_file(tmp / "into/one file.bin"), sha256_hex(data));
}

// ------------------------------------------------------------------------------------------------
// Errors a user makes

void expect_clean_failure(const ProcResult& r, int want_code, const std::string& what) {
  EXPECT_FALSE(r.timed_out) << what << ": " << r.describe();
  EXPECT_EQ(r.term_signal, 0) << what << " crashed: " << r.describe();
  EXPECT_NE(r.exit_code, 0) << what << ": " << r.describe();
  EXPECT_EQ(r.exit_code, want_code) << what << ": " << r.describe();
  EXPECT_FALSE(contains(r.err, "internal error")) << what << ": " << r.describe();
}

TEST(CliCp, MissingBucketIsAClearErrorNamingIt) {
  TempDir tmp;
  write_file(tmp / "f.txt", "hello");
  const std::string bucket = unique_bucket_name("nobucket");
  const std::string dst = tmp / "dst";
  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"cp -r from a missing bucket", {"cp", "-r", "s3://" + bucket + "/p/", dst}},
      {"cp of one object from a missing bucket", {"cp", "s3://" + bucket + "/p/k", dst + "/k"}},
      {"cp to a missing bucket", {"cp", tmp / "f.txt", "s3://" + bucket + "/k"}},
      {"cp -r to a missing bucket", {"cp", "-r", tmp.path() + "/", "s3://" + bucket + "/up/"}},
      {"ls of a missing bucket", {"ls", "s3://" + bucket + "/"}},
  };
  for (const auto& c : cases) {
    auto r = run_sluice(c.args, store_env(), 60s);
    expect_clean_failure(r, 3, c.what);
    EXPECT_TRUE(contains(r.err, bucket)) << c.what << ": stderr does not name the bucket: " << r.describe();
  }
  EXPECT_FALSE(fs::exists(dst + "/k")) << "a file was written for a missing object";
}

TEST(CliCp, WrongSecretIsAClearErrorWithoutTheSecret) {
  TestBucket b("cpsecret");
  b.store().put("p/obj", store::Body::from_string("data"), {});
  TempDir tmp;
  write_file(tmp / "f.txt", "hello");
  const std::string wrong = "WrongSecretKeyWrongSecretKeyWrongSecret1";
  const std::string real = store_env().at("AWS_SECRET_ACCESS_KEY");
  const EnvMap env = env_with({{"AWS_SECRET_ACCESS_KEY", wrong}});
  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"cp -r download", {"cp", "-r", b.uri("p/"), tmp / "dst"}},
      {"cp download of one object", {"cp", b.uri("p/obj"), tmp / "obj"}},
      {"cp upload", {"cp", tmp / "f.txt", b.uri("p/new")}},
      {"ls", {"ls", b.uri("p/")}},
  };
  for (const auto& c : cases) {
    auto r = run_sluice(c.args, env, 60s);
    expect_clean_failure(r, 4, c.what);
    EXPECT_TRUE(contains_icase(r.err, "credential") || contains_icase(r.err, "secret"))
        << c.what << ": stderr does not say the credentials are wrong: " << r.describe();
    for (const auto* s : {&wrong, &real}) {
      EXPECT_FALSE(contains(r.err, *s) || contains(r.out, *s)) << c.what << ": the output contains a secret";
      EXPECT_FALSE(contains(r.err, s->substr(0, 16))) << c.what << ": stderr contains part of a secret";
    }
  }
  EXPECT_FALSE(fs::exists(tmp / "obj"));
  EXPECT_THROW(b.store().head("p/new"), Error) << "the upload with a wrong secret wrote an object";
}

// ------------------------------------------------------------------------------------------------
// Keys that cannot be files

TEST(CliCp, UnsafeKeysAreRefusedAndNothingIsWrittenOutsideTheDestination) {
  TestBucket b("unsafe");
  const std::map<std::string, std::string> objects = {
      {"u/../escape", "escape"}, {"u/a/../../x", "x"}, {"u//abs", "abs"},
      {"u/ok/x", "ok x"},        {"u/dir", "dir"},     {"u/dir/y", "dir y"},
  };
  for (const auto& kv : objects) {
    const std::string &k = kv.first, &v = kv.second;  // lambdas capture these (clang 14: not bindings)
    auto put = [&] { b.store().put(k, store::Body::from_string(v), {}); };
    EXPECT_NO_THROW(put()) << "S3Store::put of the key '" << k << "'";
  }
  // The store must hold these keys exactly (no path normalisation on the way).
  std::set<std::string> stored;
  for (const auto& o : store::list_all(b.store(), "")) stored.insert(o.key);
  std::set<std::string> want_keys;
  for (const auto& [k, v] : objects) want_keys.insert(k);
  ASSERT_EQ(stored, want_keys) << "the store does not hold the keys as written";

  TempDir tmp;
  write_file(tmp / "work/sentinel", "keep me");
  const std::string dst = tmp / "work/dest";
  const auto before = list_entries(tmp.path(), "work/dest");
  const bool abs_existed = fs::exists("/abs");

  auto r = run_sluice({"cp", "-r", b.uri("u/"), dst}, store_env());
  std::fprintf(stderr, "sluice cp -r of the unsafe keys: exit %d, stderr:\n%s", r.exit_code, r.err.c_str());
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.term_signal, 0) << r.describe();
  EXPECT_NE(r.exit_code, 0) << "unsafe keys were not reported by the exit code: " << r.describe();
  for (const char* key : {"u/../escape", "u/a/../../x", "u//abs"}) {
    EXPECT_TRUE(contains(r.err, key)) << "stderr does not name the unsafe key '" << key << "': " << r.describe();
  }
  EXPECT_TRUE(contains(r.err, "u/dir/y") || contains(r.err, "'u/dir'"))
      << "stderr does not name the colliding keys u/dir and u/dir/y: " << r.describe();

  // Nothing outside the destination changed.
  EXPECT_EQ(list_entries(tmp.path(), "work/dest"), before) << "files appeared or changed outside the destination";
  EXPECT_EQ(read_file(tmp / "work/sentinel"), "keep me");
  EXPECT_FALSE(fs::exists(tmp / "work/escape"));
  EXPECT_FALSE(fs::exists(tmp / "work/x"));
  EXPECT_FALSE(fs::exists(tmp / "escape"));
  EXPECT_EQ(fs::exists("/abs"), abs_existed);

  // The safe key was written; of u/dir and u/dir/y at most one, with the right bytes.
  ASSERT_TRUE(fs::is_regular_file(dst + "/ok/x")) << r.describe();
  EXPECT_EQ(read_file(dst + "/ok/x"), "ok x");
  auto got = snapshot_tree(dst);
  for (const auto& [rel, facts] : got) {
    auto it = objects.find("u/" + rel);
    ASSERT_NE(it, objects.end()) << "unexpected file in the destination: " << rel;
    EXPECT_EQ(facts, (FileFacts{it->second.size(), sha256_hex(it->second)})) << rel;
  }
  EXPECT_FALSE(got.count("dir") && got.count("dir/y"));
  for (const auto& [rel, facts] : got) {
    EXPECT_TRUE(rel == "ok/x" || rel == "dir" || rel == "dir/y") << "unexpected file " << rel;
  }
}

// ------------------------------------------------------------------------------------------------
// Interrupted download

bool has_partial_with_data(const std::string& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (is_partial_name(it->path().filename().string()) && it->is_regular_file(ec2) && it->file_size(ec2) > 0 && !ec2) {
      return true;
    }
  }
  return false;
}

TEST(CliCp, KilledDownloadLeavesNoIncompleteFileAndARerunCompletes) {
  TestBucket b("interrupt");
  constexpr int kFiles = 40;
  const uint64_t size = 8 * kMiB;
  std::map<std::string, FileFacts> want;  // relative path -> facts
  {
    const std::string base = random_bytes(size, 42);
    std::vector<std::pair<std::string, std::string>> objects;
    for (int i = 0; i < kFiles; ++i) {
      std::string data = base;
      std::string tag = fmt::format("object {:02} of the interrupted download test", i);
      std::memcpy(data.data(), tag.data(), tag.size());
      data[size / 2] = static_cast<char>(i);
      std::string rel = fmt::format("shard-{:02}.bin", i);
      want[rel] = FileFacts{size, sha256_hex(data)};
      objects.emplace_back("big/" + rel, std::move(data));
    }
    put_many(b.store(), objects, 4);
  }
  TempDir tmp;
  const std::string dst = tmp / "dst";

  // Start the download with two connections, kill -9 it once it has written data (and, if it is
  // fast, at least one whole file) and at least 0.3 s have passed.
  std::vector<std::string> argv{sluice_binary(), "--max-connections", "2", "cp", "-r", "--json", b.uri("big/"), dst};
  ProcResult killed;
  {
    Child child(argv, child_env(store_env()));
    bool wrote = false;
    while (child.running() && child.elapsed() < 60) {
      wrote = wrote || has_partial_with_data(dst);
      if (wrote && child.elapsed() >= 0.3) break;
      std::this_thread::sleep_for(1ms);
    }
    child.kill9();
    killed = child.wait(10s);
    ASSERT_TRUE(wrote) << "never saw a partial file being written: " << killed.describe();
  }
  ASSERT_EQ(killed.term_signal, SIGKILL)
      << "the download finished before it could be killed (make it larger): " << killed.describe();

  // No file under a final name is incomplete: every non-hidden file is whole and right.
  ASSERT_TRUE(fs::exists(dst));
  auto after_kill = snapshot_tree(dst, /*include_hidden=*/false);
  for (const auto& [rel, facts] : after_kill) {
    auto it = want.find(rel);
    ASSERT_NE(it, want.end()) << "unexpected file " << rel;
    EXPECT_EQ(facts, it->second) << "an incomplete or wrong file under its final name: " << rel;
  }
  const size_t complete = after_kill.size();
  EXPECT_LT(complete, want.size()) << "everything was complete: the kill came too late to test anything";
  size_t partials = 0;
  for (const auto& [rel, facts] : snapshot_tree(dst)) partials += is_partial_name(fs::path(rel).filename().string());
  EXPECT_GT(partials, 0u) << "a killed download left no partial file: was it killed mid-write?";

  // The rerun completes the tree, skips what was complete, and leaves no partial file behind.
  auto rerun = run_sluice({"--max-connections", "8", "cp", "-r", "--json", b.uri("big/"), dst}, store_env());
  ASSERT_EQ(rerun.exit_code, 0) << rerun.describe();
  EXPECT_EQ(snapshot_tree(dst), want) << "after the rerun the tree differs (or partial files are left)";
  auto j = json_summary(rerun);
  EXPECT_EQ(json_u64(j, "skipped_objects"), complete) << j.dump();
  EXPECT_EQ(json_u64(j, "objects"), want.size() - complete) << j.dump();
  if (complete > 0) {
    EXPECT_GT(json_u64(j, "skipped_objects"), 0u);
  }
  std::fprintf(stderr, "interrupted download: killed after %.2f s with %zu of %zu files complete, %zu partial\n",
               killed.seconds, complete, want.size(), partials);
}

// ------------------------------------------------------------------------------------------------
// Streams (-), filters (--exclude/--include) and --dryrun, as in the AWS CLI

TEST(CliCp, StandardInputToAnObjectAndAnObjectToStandardOutput) {
  TestBucket b("cpstream");
  TempDir tmp;
  // Under the threshold (one PUT) and well above it (multipart, size unknown to sluice: a stream).
  for (size_t size : {size_t{0}, size_t{5000}, size_t{21 * kMiB + 123}}) {
    SCOPED_TRACE(size);
    const std::string data = random_bytes(size, 40 + size);
    write_file(tmp / "in", data);
    const std::string key = "stream/" + std::to_string(size);
    auto up = run_sluice({"cp", "-", b.uri(key)}, store_env(), 120s, tmp / "in");
    ASSERT_EQ(up.exit_code, 0) << up.describe();
    auto info = b.store().head(key);
    EXPECT_EQ(info.size, size);
    EXPECT_EQ(info.etag.find('-') != std::string::npos, size > 8 * kMiB) << "multipart iff above 8 MiB: " << info.etag;
    auto down = run_sluice({"cp", b.uri(key), "-"}, store_env());
    ASSERT_EQ(down.exit_code, 0) << down.describe();
    EXPECT_EQ(down.out.size(), size) << "stdout holds something else than the object";
    EXPECT_TRUE(down.out == data) << "the object written to stdout differs";
  }
  // Small parts: many of them in flight, written in order.
  const std::string big = random_bytes(30 * kMiB + 5, 99);
  write_file(tmp / "big", big);
  auto up = run_sluice({"cp", "--part-size", "5MiB", "-", b.uri("stream/big")}, store_env(), 120s, tmp / "big");
  ASSERT_EQ(up.exit_code, 0) << up.describe();
  EXPECT_TRUE(b.store().head("stream/big").etag.ends_with("-7")) << b.store().head("stream/big").etag;
  auto down = run_sluice({"cp", "--part-size", "5MiB", b.uri("stream/big"), "-"}, store_env());
  ASSERT_EQ(down.exit_code, 0) << down.describe();
  EXPECT_TRUE(down.out == big) << "a multi-part object came out of order or incomplete";
}

TEST(CliCp, StreamsRefuseWhatCannotGoWithThem) {
  TestBucket b("cpstreambad");
  TempDir tmp;
  b.store().put("k", store::Body::from_string("x"), {});
  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"- to -", {"cp", "-", "-"}},
      {"- to a local file", {"cp", "-", tmp / "f"}},
      {"- to a prefix", {"cp", "-", b.uri("dir/")}},
      {"- with --recursive", {"cp", "-r", "-", b.uri("k2")}},
      {"- with --exclude", {"cp", "--exclude", "*", "-", b.uri("k2")}},
      {"to - with --json", {"cp", "--json", b.uri("k"), "-"}},
  };
  for (const auto& c : cases) {
    auto r = run_sluice(c.args, store_env(), 60s);
    expect_clean_failure(r, 2, c.what);
    EXPECT_TRUE(r.out.empty()) << c.what << ": " << r.describe();
  }
  EXPECT_FALSE(fs::exists(tmp / "f"));
  EXPECT_THROW(b.store().head("k2"), Error) << "a refused stream copy wrote an object";
}

TEST(CliCp, ExcludeAndIncludeApplyInOrderAndDryrunCopiesNothing) {
  TestBucket b("cpfilter");
  TempDir tmp;
  const std::string src = tmp / "src";
  for (const char* rel : {"a.txt", "b.bin", "d/c.txt", "d/e.bin", "logs/x.log", "logs/keep.log"}) {
    write_file(src + "/" + rel, rel);
  }
  auto keys = [&] {
    std::set<std::string> out;
    for (const auto& o : store::list_all(b.store(), "")) out.insert(o.key);
    return out;
  };
  // --dryrun: one "(dryrun) upload: SRC to DST" line per file the filters take, nothing stored.
  auto dry = run_sluice({"cp", "-r", src, b.uri("up/"), "--exclude", "*", "--include", "*.txt", "--include",
                         "logs/*", "--exclude", "logs/x.log", "--dryrun"},
                        store_env());
  ASSERT_EQ(dry.exit_code, 0) << dry.describe();
  const std::string shown_src = (fs::path(src).lexically_relative(fs::current_path())).string();
  std::vector<std::string> want_lines;
  for (const char* rel : {"a.txt", "d/c.txt", "logs/keep.log"}) {
    want_lines.push_back(fmt::format("(dryrun) upload: {}/{} to {}", shown_src, rel, b.uri(std::string("up/") + rel)));
  }
  auto got_lines = lines_of(dry.out);
  std::sort(got_lines.begin(), got_lines.end());
  EXPECT_EQ(got_lines, want_lines) << dry.describe();
  EXPECT_TRUE(keys().empty()) << "--dryrun uploaded something";

  // The same filters for real.
  auto up = run_sluice({"cp", "-r", "-q", src, b.uri("up/"), "--exclude", "*", "--include", "*.txt", "--include",
                        "logs/*", "--exclude", "logs/x.log"},
                       store_env());
  ASSERT_EQ(up.exit_code, 0) << up.describe();
  EXPECT_EQ(keys(), (std::set<std::string>{"up/a.txt", "up/d/c.txt", "up/logs/keep.log"}));

  // Downloads: patterns relative to the prefix; --dryrun writes nothing, not even the directory.
  ASSERT_EQ(run_sluice({"cp", "-r", "-q", src, b.uri("all/")}, store_env()).exit_code, 0);
  const std::string dst = tmp / "dst";
  auto ddry = run_sluice({"cp", "-r", b.uri("all/"), dst, "--exclude", "d/*", "--dryrun"}, store_env());
  ASSERT_EQ(ddry.exit_code, 0) << ddry.describe();
  EXPECT_TRUE(contains(ddry.out, "(dryrun) download: " + b.uri("all/a.txt") + " to ")) << ddry.describe();
  EXPECT_EQ(lines_of(ddry.out).size(), 4u) << ddry.describe();
  EXPECT_FALSE(contains(ddry.out, "/d/")) << ddry.describe();
  EXPECT_FALSE(fs::exists(dst)) << "--dryrun created the destination";
  auto down = run_sluice({"cp", "-r", "-q", b.uri("all/"), dst, "--exclude", "*.bin", "--exclude", "logs/*",
                          "--include", "logs/keep.log"},
                         store_env());
  ASSERT_EQ(down.exit_code, 0) << down.describe();
  std::set<std::string> got;
  for (const auto& [rel, facts] : snapshot_tree(dst)) got.insert(rel);
  EXPECT_EQ(got, (std::set<std::string>{"a.txt", "d/c.txt", "logs/keep.log"}));

  // One object: the filter applies to its name; excluded, nothing is copied and that is no error.
  auto one = run_sluice({"cp", b.uri("all/b.bin"), tmp / "one.bin", "--exclude", "*.bin"}, store_env());
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  EXPECT_FALSE(fs::exists(tmp / "one.bin"));
}

}  // namespace
}  // namespace sluice::itest
