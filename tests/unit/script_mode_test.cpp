// Script mode (job/script_mode.hpp): when a job runs its code the way the SageMaker training
// toolkit does, with which command and arguments, and how the source reaches /opt/ml/code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "job/script_mode.hpp"
#include "support/temp_dir.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using sluice::testing::TempDir;

// What the SageMaker Python SDK sends for Estimator(entry_point="train.py", source_dir=...):
// JSON-encoded hyperparameters, sagemaker_program and sagemaker_submit_directory among them.
JobSpec sdk_job() {
  JobSpec s;
  s.training_job_name = "pytorch-training-2026-12-05-16-20-01-123";
  s.role_arn = "arn:aws:iam::123456789012:role/x";
  s.algorithm.training_image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0-cpu-py310";
  s.hyperparameters = {{"epochs", "3"},
                       {"lr", "0.01"},
                       {"model-name", "\"resnet\""},
                       {"use-amp", "true"},
                       {"sagemaker_program", "\"train.py\""},
                       {"sagemaker_submit_directory", "\"s3://bucket/job/source/sourcedir.tar.gz\""},
                       {"sagemaker_container_log_level", "20"},
                       {"sagemaker_region", "\"us-east-1\""}};
  s.resources.instance_count = 1;
  return s;
}

TEST(ScriptMode, IsWhatTheSdkSetsWithNoContainerEntrypoint) {
  auto mode = script_mode(sdk_job());
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->program, "train.py");
  EXPECT_EQ(mode->source, "s3://bucket/job/source/sourcedir.tar.gz");
  // SM_USER_ARGS: sagemaker_* keys out, keys sorted, values decoded and str()-ed.
  EXPECT_THAT(mode->args, ElementsAre("--epochs", "3", "--lr", "0.01", "--model-name", "resnet", "--use-amp", "True"));
}

TEST(ScriptMode, ContainerArgumentsTrainIsStillScriptModeAnythingElseIsACommand) {
  JobSpec s = sdk_job();
  s.algorithm.container_arguments = {"train"};
  EXPECT_TRUE(script_mode(s));
  s.algorithm.container_arguments = {"python3", "mine.py"};
  EXPECT_FALSE(script_mode(s));
  s = sdk_job();
  s.algorithm.container_entrypoint = {"python3", "mine.py"};
  EXPECT_FALSE(script_mode(s));
  s = sdk_job();
  s.hyperparameters.erase("sagemaker_program");
  EXPECT_FALSE(script_mode(s));  // nothing to run: the spec check says so (job_spec.cpp)
}

TEST(ScriptMode, EnvironmentProgramAndDefaultSourceDirectory) {
  JobSpec s = sdk_job();
  s.hyperparameters.erase("sagemaker_program");
  s.hyperparameters.erase("sagemaker_submit_directory");
  s.environment["SAGEMAKER_PROGRAM"] = "run.sh";
  auto mode = script_mode(s);
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->program, "run.sh");
  EXPECT_EQ(mode->source, "");  // /opt/ml/code as it is
  s.hyperparameters["sagemaker_submit_directory"] = "\"file:///home/me/src\"";
  EXPECT_EQ(script_mode(s)->source, "/home/me/src");
  s.hyperparameters["sagemaker_submit_directory"] = "\"/opt/ml/code\"";
  EXPECT_EQ(script_mode(s)->source, "");
}

TEST(ScriptMode, RefusesProgramsOutsideTheCodeAndSourcesItCannotFetch) {
  for (const char* program : {"\"/etc/passwd\"", "\"../x.py\"", "\"a/../../x.py\"", "\"\""}) {
    JobSpec s = sdk_job();
    s.hyperparameters["sagemaker_program"] = program;
    try {
      script_mode(s);
      ADD_FAILURE() << program;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
      EXPECT_THAT(e.what(), HasSubstr("sagemaker_program"));
    }
  }
  for (const char* source : {"\"s3://bucket\"", "\"s3://bucket/dir/\"", "\"relative/dir\"", "\"http://x/y.tar.gz\""}) {
    JobSpec s = sdk_job();
    s.hyperparameters["sagemaker_submit_directory"] = source;
    try {
      script_mode(s);
      ADD_FAILURE() << source;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("sagemaker_submit_directory"));
    }
  }
}

TEST(ScriptMode, CommandsAsTheToolkitRunsEachKindOfEntryPoint) {
  EXPECT_EQ(entry_point_type(true, "train.py"), EntryPoint::kPythonPackage);
  EXPECT_EQ(entry_point_type(false, "train.py"), EntryPoint::kPythonProgram);
  EXPECT_EQ(entry_point_type(false, "run.sh"), EntryPoint::kCommand);
  ScriptMode m{"train.py", "", {"--lr", "0.1", "--name", "it's a b"}};
  EXPECT_THAT(script_command(m, EntryPoint::kPythonProgram, "/opt/ml/code", false),
              ElementsAre("python3", "train.py", "--lr", "0.1", "--name", "it's a b"));
  EXPECT_THAT(script_command(m, EntryPoint::kPythonPackage, "/opt/ml/code", false),
              ElementsAre("python3", "-m", "train", "--lr", "0.1", "--name", "it's a b"));
  m.program = "run.sh";
  EXPECT_THAT(script_command(m, EntryPoint::kCommand, "/opt/ml/code", false),
              ElementsAre("/bin/sh", "-c", "./run.sh --lr 0.1 --name 'it'\"'\"'s a b'"));
  // With requirements: pip first, into a directory of the code, then the same command.
  m.program = "train.py";
  auto argv = script_command(m, EntryPoint::kPythonProgram, "/opt/ml/code", true);
  ASSERT_GE(argv.size(), 6u);
  EXPECT_EQ(argv[0], "/bin/sh");
  EXPECT_THAT(argv[2], HasSubstr("-m pip install"));
  EXPECT_THAT(argv[2], HasSubstr("--target /opt/ml/code/.sluice-requirements -r requirements.txt"));
  EXPECT_THAT(argv[2], HasSubstr("InstallRequirementsError"));
  EXPECT_THAT(argv[2], HasSubstr("/opt/ml/output/failure"));
  EXPECT_THAT(std::vector<std::string>(argv.begin() + 4, argv.end()),
              ElementsAre("python3", "train.py", "--lr", "0.1", "--name", "it's a b"));
  EXPECT_EQ(requirements_path("/opt/ml/code"), "/opt/ml/code/.sluice-requirements");
}

TEST(ScriptMode, InstallSourceCopiesADirectoryWithItsLinks) {
  TempDir tmp;
  fs::create_directories(tmp / "src/pkg");
  std::ofstream(tmp / "src/train.py") << "print('hi')\n";
  std::ofstream(tmp / "src/pkg/util.py") << "X = 1\n";
  fs::permissions(tmp / "src/train.py", fs::perms::owner_all);
  fs::create_symlink("pkg/util.py", tmp / "src/alias.py");
  fs::create_directories(tmp / "code");
  UniqueFd code = beneath::open_root(tmp / "code");
  EXPECT_EQ(install_source(tmp / "src", code.get(), "code"), 3u);
  std::ifstream in(tmp / "code/pkg/util.py");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "X = 1\n");
  EXPECT_EQ(fs::read_symlink(tmp / "code/alias.py"), "pkg/util.py");
  EXPECT_EQ(fs::status(tmp / "code/train.py").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_THROW(install_source(tmp / "missing", code.get(), "code"), Error);
}

}  // namespace
}  // namespace sluice::job
