// Script mode, as the SageMaker training toolkit runs it inside a framework image (PyTorch,
// TensorFlow, ...) when the SageMaker Python SDK starts a job (docs/train.md "Script mode"):
//  - the job has no ContainerEntrypoint, and no ContainerArguments other than ["train"] (the
//    argument SageMaker starts a training image with);
//  - HyperParameters.sagemaker_program (or Environment SAGEMAKER_PROGRAM) names the entry point,
//    and sagemaker_submit_directory where the code comes from: an s3:// object (the SDK's
//    sourcedir.tar.gz), or, single-tenant only, a local file:// or absolute path (a directory or a
//    tar archive). Without it, /opt/ml/code is used as it is.
//  - The code is unpacked into /opt/ml/code, which is the command's working directory, and the
//    entry point runs as the toolkit runs it [TK _entry_point_type.py, process.py]: a directory
//    with setup.py -> `python3 -m <module> ARGS`; a .py program -> `python3 <program> ARGS`;
//    anything else -> `/bin/sh -c "./<program> ARGS"` (made executable). ARGS are the user
//    hyperparameters as the toolkit passes them (SM_USER_ARGS: sagemaker_* keys left out, values
//    JSON-decoded, `--key value`, keys sorted).
//  - The TrainingImage is not run: `python3` is the host's (the first on the command's PATH).
//  - requirements.txt is installed only when asked (`sluice train --install-requirements`): pip
//    installs it into /opt/ml/code/.sluice-requirements (on PYTHONPATH) before the program runs;
//    a failed install fails the job with "InstallRequirementsError".
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tar_reader.hpp"
#include "job/job_spec.hpp"

namespace sluice::job {

struct ScriptMode {
  std::string program;  // the entry point, relative to /opt/ml/code ("train.py", "src/run.sh")
  // Where the code comes from: "s3://bucket/key", a host path (file:// removed), or empty for
  // /opt/ml/code as it is.
  std::string source;
  // The arguments the entry point gets: the toolkit's SM_USER_ARGS.
  std::vector<std::string> args;
};

// The job's script mode, or nullopt when it runs ContainerEntrypoint/ContainerArguments. Throws
// Error(kInvalidInput) naming the hyperparameter for a program that is empty, absolute or leads
// out of /opt/ml/code (".."), and for a source that is not an s3:// URI, a file:// URI or an
// absolute path.
std::optional<ScriptMode> script_mode(const JobSpec& spec);

enum class EntryPoint { kPythonPackage, kPythonProgram, kCommand };

// The toolkit's rule: setup.py in the code directory -> a package; else a name ending in .py -> a
// program; else a command.
EntryPoint entry_point_type(bool has_setup_py, std::string_view program);

// The command for `mode` of `type`. `code_dir` is /opt/ml/code as the command sees it (the host
// path when it runs without a sandbox). With `install_requirements`, the command first runs pip
// on `code_dir`/requirements.txt (see above); the caller adds `requirements_path(code_dir)` to
// PYTHONPATH.
std::vector<std::string> script_command(const ScriptMode& mode, EntryPoint type, const std::string& code_dir,
                                        bool install_requirements);

std::string requirements_path(const std::string& code_dir);

// Fills the directory open as `code_dir` (a host's /opt/ml/code, `shown` in messages) from
// `local`: a tar archive (plain or compressed) is unpacked within `limits`, a directory's tree is
// copied (links as links) unless `archive_only` (a download, which is never a directory). Returns
// the number of files. Throws sluice::Error.
size_t install_source(const std::filesystem::path& local, int code_dir, const std::string& shown,
                      const formats::UnpackLimits& limits = {}, bool archive_only = false);

}  // namespace sluice::job
