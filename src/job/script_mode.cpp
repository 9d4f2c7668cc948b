#include "job/script_mode.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "formats/tar_reader.hpp"
#include "job/contract.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

std::string checked_program(const std::string& raw) {
  const std::string field = "HyperParameters.sagemaker_program";
  if (raw.empty() || raw == "None") throw Error(ErrorKind::kInvalidInput, field, "names no program");
  if (raw.front() == '/') {
    throw Error(ErrorKind::kInvalidInput, field,
                fmt::format("'{}' must be a path relative to /opt/ml/code (the source directory)", raw));
  }
  for (const auto& part : fs::path(raw)) {
    if (part == "..") throw Error(ErrorKind::kInvalidInput, field, fmt::format("'{}' leads out of /opt/ml/code", raw));
  }
  return raw;
}

std::string checked_source(const std::string& raw) {
  const std::string field = "HyperParameters.sagemaker_submit_directory";
  if (raw == std::string(kContainerRoot) + "/code" || raw == std::string(kContainerRoot) + "/code/") return {};
  if (raw.rfind("s3://", 0) == 0) {
    if (raw.size() <= 5 || raw.find('/', 5) == std::string::npos || raw.back() == '/') {
      throw Error(ErrorKind::kInvalidInput, field, fmt::format("'{}' must name an object, s3://BUCKET/KEY", raw));
    }
    return raw;
  }
  std::string path = raw.rfind("file://", 0) == 0 ? raw.substr(7) : raw;
  if (path.empty() || path.front() != '/') {
    throw Error(ErrorKind::kInvalidInput, field,
                fmt::format("'{}' must be s3://BUCKET/KEY (a sourcedir.tar.gz), file:///PATH or an absolute path", raw));
  }
  return path;
}

// Copies the tree of `from` (a trusted host directory) into `to` (a handle), links as links.
size_t copy_tree(const fs::path& from, int to, const std::string& shown) {
  size_t files = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(from);
    const std::string where = shown + "/" + rel.string();
    const auto status = it->symlink_status();
    const std::string parent = rel.parent_path().string();
    UniqueFd at = beneath::make_dirs(to, parent, 0755, shown);
    const std::string name = rel.filename().string();
    if (fs::is_symlink(status)) {
      (void)::unlinkat(at.get(), name.c_str(), 0);
      std::error_code lec;
      const fs::path target = fs::read_symlink(it->path(), lec);
      if (lec) throw errno_error(lec.value(), "reading the link", it->path().string());
      if (::symlinkat(target.c_str(), at.get(), name.c_str()) != 0) throw errno_error(errno, "copying", where);
      ++files;
    } else if (fs::is_directory(status)) {
      beneath::make_dirs(at.get(), name, 0755, where);
    } else if (fs::is_regular_file(status)) {
      UniqueFd src(::open(it->path().c_str(), O_RDONLY | O_CLOEXEC));
      if (!src) throw errno_error(errno, "reading", it->path().string());
      struct stat st;
      if (::fstat(src.get(), &st) != 0) throw errno_error(errno, "reading", it->path().string());
      (void)::unlinkat(at.get(), name.c_str(), 0);
      UniqueFd dst(beneath::open_at(at.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, st.st_mode & 0777));
      if (!dst) throw errno_error(errno, "copying", where);
      char buf[1 << 16];
      ssize_t n;
      while ((n = ::read(src.get(), buf, sizeof buf)) > 0) {
        if (::write(dst.get(), buf, static_cast<size_t>(n)) != n) throw errno_error(errno, "copying", where);
      }
      if (n < 0) throw errno_error(errno, "reading", it->path().string());
      ++files;
    }
  }
  if (ec) throw errno_error(ec.value(), "copying the source directory", from.string());
  return files;
}

}  // namespace

std::optional<ScriptMode> script_mode(const JobSpec& spec) {
  const auto& alg = spec.algorithm;
  if (!alg.container_entrypoint.empty()) return std::nullopt;
  if (!alg.container_arguments.empty() && alg.container_arguments != std::vector<std::string>{"train"}) return std::nullopt;
  const std::vector<std::string> hosts = host_names(spec);
  if (hosts.empty()) return std::nullopt;
  // The toolkit's own reading of the spec (contract.hpp): entry point, module_dir, user args.
  const ContractJson env = training_env_json(spec, hosts.front(), ContractOptions{});
  const ContractJson& entry = env.at("user_entry_point");
  if (entry.is_null()) return std::nullopt;
  ScriptMode mode;
  mode.program = checked_program(entry.is_string() ? entry.get<std::string>() : python_str(entry));
  mode.source = checked_source(env.at("module_dir").get<std::string>());
  mode.args = python_cmd_args(env.at("hyperparameters"));
  return mode;
}

EntryPoint entry_point_type(bool has_setup_py, std::string_view program) {
  if (has_setup_py) return EntryPoint::kPythonPackage;
  if (program.ends_with(".py")) return EntryPoint::kPythonProgram;
  return EntryPoint::kCommand;
}

std::string requirements_path(const std::string& code_dir) { return code_dir + "/.sluice-requirements"; }

std::vector<std::string> script_command(const ScriptMode& mode, EntryPoint type, const std::string& code_dir,
                                        bool install_requirements) {
  std::vector<std::string> argv;
  switch (type) {
    case EntryPoint::kPythonPackage: {
      std::string module = mode.program;
      if (auto at = module.find(".py"); at != std::string::npos) module.erase(at, 3);  // str.replace(".py", "")
      argv = {"python3", "-m", module};
      argv.insert(argv.end(), mode.args.begin(), mode.args.end());
      break;
    }
    case EntryPoint::kPythonProgram:
      argv = {"python3", mode.program};
      argv.insert(argv.end(), mode.args.begin(), mode.args.end());
      break;
    case EntryPoint::kCommand: {
      std::string line = "./" + mode.program;
      for (const auto& a : mode.args) line += " " + shell_quote(a);
      argv = {"/bin/sh", "-c", line};
      break;
    }
  }
  if (!install_requirements) return argv;
  const std::string failure = (fs::path(code_dir).parent_path() / "output" / "failure").string();
  const std::string script = fmt::format(
      // pip runs from the interpreter itself, not through a wrapper such as a pyenv shim (whose
      // hook after an install fails on a read-only host).
      "if [ -f requirements.txt ]; then py=$(python3 -c 'import sys; print(sys.executable)') && \"$py\" -m pip "
      "install --no-input --disable-pip-version-check --target {} -r requirements.txt || {{ rc=$?; printf "
      "'InstallRequirementsError: pip install -r requirements.txt exited with code %s (see the job log)' \"$rc\" > "
      "{}; exit 1; }}; fi; exec \"$@\"",
      shell_quote(requirements_path(code_dir)), shell_quote(failure));
  std::vector<std::string> wrapped = {"/bin/sh", "-c", script, "sluice-install-requirements"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

size_t install_source(const fs::path& local, int code_dir, const std::string& shown, const formats::UnpackLimits& limits,
                      bool archive_only) {
  std::error_code ec;
  if (!archive_only && fs::is_directory(local, ec)) return copy_tree(local, code_dir, shown);
  if (!fs::is_regular_file(local, ec)) {
    throw Error(ErrorKind::kNotFound, "HyperParameters.sagemaker_submit_directory",
                fmt::format("{} is neither a directory nor an archive", local.string()));
  }
  return formats::unpack_tar(local.string(), code_dir, shown, limits).files;
}

}  // namespace sluice::job
