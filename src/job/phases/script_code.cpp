#include "job/phases/script_code.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "core/beneath.hpp"
#include "core/log.hpp"
#include "formats/tar_reader.hpp"
#include "transfer/download.hpp"

namespace fs = std::filesystem;

namespace sluice::job {

fs::path fetch_script_source(JobRun& run) {
  const ScriptMode& script = *run.script;
  if (script.source.rfind("s3://", 0) != 0) return script.source;
  const store::Address where = store::parse_address(script.source);
  if (run.tenancy) run.tenancy->authorize_read(where);
  auto& store = run.stores(where);
  store::ObjectInfo info;
  try {
    info = store.head(where.key);
  } catch (const Error& e) {
    throw e.with_context("HyperParameters.sagemaker_submit_directory " + script.source);
  }
  // A name of Sluice's own (not the key's last component, which could be "." or ".."), in the
  // job directory, outside every host's tree.
  const fs::path local = run.job_dir / ".sluice-source" / "sourcedir.tar.gz";
  std::error_code ec;
  fs::remove_all(local.parent_path(), ec);
  if (!ec) fs::create_directories(local.parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "preparing the source download", local.parent_path().string());
  transfer::DownloadOptions dopts;
  dopts.skip_complete = false;
  auto result = transfer::download(run.engine, store, {{info, local.string()}}, dopts);
  if (!result.failures.empty()) throw result.failures.front().with_context("downloading " + script.source);
  return local;
}

EntryPoint install_script(const ScriptMode& script, const std::optional<fs::path>& source, const fs::path& root,
                          size_t hosts) {
  UniqueFd top = beneath::open_root(root.string());
  UniqueFd code = beneath::make_dirs(top.get(), "code", 0755, root.string());
  const std::string shown = (root / "code").string();
  if (source) {
    formats::UnpackLimits limits;
    struct statvfs vfs;
    if (::statvfs(root.c_str(), &vfs) == 0) {
      const uint64_t share = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 2 / std::max<size_t>(hosts, 1);
      limits.max_bytes = std::min(limits.max_bytes, share);
    }
    size_t files = install_source(*source, code.get(), shown, limits, script.source.rfind("s3://", 0) == 0);
    log::info("[{}] script mode: {} files from {} in /opt/ml/code", root.filename().string(), files, script.source);
  }
  struct stat st;
  const EntryPoint type = entry_point_type(::fstatat(code.get(), "setup.py", &st, AT_SYMLINK_NOFOLLOW) == 0, script.program);
  if (type != EntryPoint::kPythonPackage) {
    UniqueFd program(beneath::open_at(code.get(), script.program, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    if (!program || ::fstat(program.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw Error(ErrorKind::kNotFound, fmt::format("HyperParameters.sagemaker_program '{}'", script.program),
                  script.source.empty()
                      ? "/opt/ml/code is empty: name the source with HyperParameters.sagemaker_submit_directory "
                        "(s3://BUCKET/KEY of a sourcedir.tar.gz, or a local directory)"
                      : fmt::format("no such file in {}", script.source));
    }
    if (type == EntryPoint::kCommand && ::fchmod(program.get(), 0755) != 0) {
      throw errno_error(errno, "making the entry point executable", shown + "/" + script.program);
    }
  }
  return type;
}

}  // namespace sluice::job
