// The container contract (job/contract.hpp): host names and order, the three config files byte for
// byte, every SM_* variable of a realistic job with the toolkit's exact encodings (expected values
// were produced by running the toolkit's own to_env_vars logic under Python 3.11), the Python
// encodings themselves, and write_config_files() on a real directory.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "job/contract.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Builders

Channel s3_channel(std::string name, Distribution d = Distribution::kFullyReplicated) {
  Channel c;
  c.name = std::move(name);
  c.s3 = S3DataSource{};
  c.s3->uri = "s3://bucket/" + c.name + "/";
  c.s3->distribution = d;
  return c;
}

Channel fs_channel(std::string name) {
  Channel c;
  c.name = std::move(name);
  c.file_system =
      FileSystemDataSource{"fs-0123456789abcdef0", AccessMode::kRo, FileSystemType::kFSxLustre, "/fsx/data"};
  return c;
}

JobSpec basic_job(int hosts) {
  JobSpec s;
  s.training_job_name = "demo-1";
  s.role_arn = "arn:aws:iam::123456789012:role/x";
  s.algorithm.training_input_mode = InputMode::kFile;
  s.hyperparameters = {{"epochs", "3"}};
  s.channels.push_back(s3_channel("train"));
  s.output.s3_output_path = "s3://bucket/out";
  s.resources.instance_type = "ml.m5.xlarge";
  s.resources.instance_count = hosts;
  return s;
}

// The realistic job of the SM_* tests: 2 hosts, four channels (File/FastFile/file system/Pipe),
// hyperparameters of every JSON kind and plain strings, reserved sagemaker_* keys.
JobSpec realistic_job() {
  JobSpec s;
  s.training_job_name = "demo-train-7";
  s.role_arn = "arn:aws:iam::123456789012:role/SageMakerRole";
  s.algorithm.training_input_mode = InputMode::kFile;
  s.algorithm.container_entrypoint = {"python3", "train.py"};
  s.hyperparameters = {
      {"epochs", "10"},
      {"learning-rate", "0.001"},
      {"optimizer", "\"adam\""},
      {"model.name", "resnet"},
      {"layers", "[64, 32]"},
      {"config", "{\"b\": 1, \"a\": true, \"s\": \"it's\"}"},
      {"dropout", "null"},
      {"verbose", "true"},
      {"big", "1e16"},
      {"x", "1"},
      {"tiny", "0.00001"},
      {"name", "caf\xC3\xA9"},
      {"sagemaker_program", "\"train.py\""},
      {"sagemaker_container_log_level", "10"},
      {"sagemaker_mpi_enabled", "false"},
      {"sagemaker_region", "\"eu-west-1\""},
  };
  Channel train = s3_channel("train", Distribution::kShardedByS3Key);
  train.content_type = "text/csv";
  Channel val = s3_channel("val-set.v2");
  val.input_mode = InputMode::kFastFile;
  Channel stream = s3_channel("stream", Distribution::kShardedByS3Key);
  stream.input_mode = InputMode::kPipe;
  stream.record_wrapper = RecordWrapper::kRecordIO;
  stream.content_type = "application/x-recordio";
  s.channels = {train, val, fs_channel("fsx"), stream};
  s.output.s3_output_path = "s3://bucket/out";
  s.resources.instance_type = "ml.m5.xlarge";
  s.resources.instance_count = 2;
  s.environment = {{"MY_FLAG", "1"}, {"SM_HOSTS", "overridden"}, {"TRAINING_JOB_NAME", "overridden"}};
  return s;
}

ContractOptions realistic_options() {
  ContractOptions o;
  o.num_cpus = 8;
  o.num_gpus = 1;
  o.region = "us-west-2";
  return o;
}

std::string dump(const ContractJson& j) { return j.dump(); }

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a non-Error was thrown: " << e.what();
    return ErrorKind::kInternal;
  }
  ADD_FAILURE() << "nothing was thrown";
  return ErrorKind::kInternal;
}

// ---------------------------------------------------------------------------------------------
// Hosts

TEST(ContractHosts, NamesAreNumericOrder) {
  EXPECT_TRUE(host_names(0).empty());
  EXPECT_TRUE(host_names(-3).empty());
  EXPECT_EQ(host_names(1), std::vector<std::string>{"algo-1"});
  EXPECT_EQ(host_names(3), (std::vector<std::string>{"algo-1", "algo-2", "algo-3"}));
  auto twelve = host_names(12);
  ASSERT_EQ(twelve.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(twelve[i], "algo-" + std::to_string(i + 1));
  // Numeric, not lexicographic: algo-2 comes right after algo-1, algo-10 after algo-9.
  EXPECT_EQ(twelve[1], "algo-2");
  EXPECT_EQ(twelve[9], "algo-10");
  EXPECT_FALSE(std::is_sorted(twelve.begin(), twelve.end()));
}

TEST(ContractHosts, RankIsIndexInHosts) {
  JobSpec s = basic_job(12);
  EXPECT_EQ(host_names(s), host_names(12));
  EXPECT_EQ(host_rank(s, "algo-1"), 0);
  EXPECT_EQ(host_rank(s, "algo-2"), 1);
  EXPECT_EQ(host_rank(s, "algo-10"), 9);
  EXPECT_EQ(host_rank(s, "algo-12"), 11);
  for (std::string bad : {"algo-0", "algo-13", "algo-02", "", "algo-", "ALGO-1", "algo-1 "}) {
    EXPECT_EQ(kind_of([&] { host_rank(s, bad); }), ErrorKind::kInvalidInput) << bad;
  }
}

TEST(ContractHosts, HeterogeneousGroupsTakeConsecutiveHosts) {
  JobSpec s = basic_job(0);
  s.resources.instance_type.clear();
  s.resources.instance_groups = {{"train1", "ml.p3.16xlarge", 2}, {"train2", "ml.p3.8xlarge", 1}};
  auto groups = host_groups(s);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].hosts, (std::vector<std::string>{"algo-1", "algo-2"}));
  EXPECT_EQ(groups[1].hosts, std::vector<std::string>{"algo-3"});
  EXPECT_EQ(host_names(s), host_names(3));
  EXPECT_EQ(group_of(groups, "algo-3").name, "train2");
  EXPECT_EQ(host_rank(s, "algo-3"), 2);
}

// ---------------------------------------------------------------------------------------------
// hyperparameters.json

TEST(ContractConfig, HyperparametersAreStringsAsGiven) {
  JobSpec s = realistic_job();
  EXPECT_EQ(dump(hyperparameters_json(s)),
            R"({"big":"1e16","config":"{\"b\": 1, \"a\": true, \"s\": \"it's\"}","dropout":"null","epochs":"10",)"
            R"("layers":"[64, 32]","learning-rate":"0.001","model.name":"resnet","name":"caf)"
            "\xC3\xA9"
            R"(","optimizer":"\"adam\"","sagemaker_container_log_level":"10","sagemaker_mpi_enabled":"false",)"
            R"("sagemaker_program":"\"train.py\"","sagemaker_region":"\"eu-west-1\"","tiny":"0.00001",)"
            R"("verbose":"true","x":"1"})");
  s.hyperparameters.clear();
  EXPECT_EQ(dump(hyperparameters_json(s)), "{}");
}

// ---------------------------------------------------------------------------------------------
// inputdataconfig.json

TEST(ContractConfig, InputDataConfigFourKeysInRequestOrder) {
  JobSpec s = realistic_job();
  EXPECT_EQ(dump(inputdataconfig_json(s)),
            R"({"train":{"ContentType":"text/csv","TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key",)"
            R"("RecordWrapperType":"None"},"val-set.v2":{"TrainingInputMode":"FastFile",)"
            R"("S3DistributionType":"FullyReplicated","RecordWrapperType":"None"},)"
            R"("fsx":{"TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"},)"
            R"("stream":{"ContentType":"application/x-recordio","TrainingInputMode":"Pipe",)"
            R"("S3DistributionType":"ShardedByS3Key","RecordWrapperType":"RecordIO"}})");
}

TEST(ContractConfig, InputDataConfigEffectiveModePerChannel) {
  for (InputMode job_mode : {InputMode::kFile, InputMode::kFastFile, InputMode::kPipe}) {
    JobSpec s = basic_job(1);
    s.algorithm.training_input_mode = job_mode;
    Channel inherit = s3_channel("inherit");
    Channel file = s3_channel("file");
    file.input_mode = InputMode::kFile;
    Channel fast = s3_channel("fast");
    fast.input_mode = InputMode::kFastFile;
    Channel pipe = s3_channel("pipe");
    pipe.input_mode = InputMode::kPipe;
    s.channels = {inherit, file, fast, pipe};
    auto doc = inputdataconfig_json(s);
    const char* expected = job_mode == InputMode::kFile ? "File" : job_mode == InputMode::kFastFile ? "FastFile" : "Pipe";
    EXPECT_EQ(doc["inherit"]["TrainingInputMode"], expected);
    EXPECT_EQ(doc["file"]["TrainingInputMode"], "File");
    EXPECT_EQ(doc["fast"]["TrainingInputMode"], "FastFile");
    EXPECT_EQ(doc["pipe"]["TrainingInputMode"], "Pipe");
    for (const auto& [name, ch] : doc.items()) {
      EXPECT_EQ(ch.size(), 3u) << name;  // no ContentType: it was not set
      EXPECT_FALSE(ch.contains("ContentType")) << name;
    }
  }
}

TEST(ContractConfig, InputDataConfigContentTypeOnlyWhenSet) {
  JobSpec s = basic_job(1);
  Channel with = s3_channel("with");
  with.content_type = "application/jsonlines";
  Channel without = s3_channel("without");
  s.channels = {with, without};
  EXPECT_EQ(dump(inputdataconfig_json(s)),
            R"({"with":{"ContentType":"application/jsonlines","TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"},)"
            R"("without":{"TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"}})");
}

TEST(ContractConfig, FileSystemChannelIsFullyReplicated) {
  JobSpec s = basic_job(3);
  Channel efs = fs_channel("efs");
  efs.content_type = "text/plain";
  s.channels = {efs};
  EXPECT_EQ(dump(inputdataconfig_json(s)),
            R"({"efs":{"ContentType":"text/plain","TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"}})");
}

// ---------------------------------------------------------------------------------------------
// resourceconfig.json

TEST(ContractConfig, ResourceConfigOneHost) {
  JobSpec s = basic_job(1);
  EXPECT_EQ(dump(resourceconfig_json(s, "algo-1")),
            R"({"current_host":"algo-1","current_instance_type":"ml.m5.xlarge","current_group_name":"homogeneousCluster",)"
            R"("hosts":["algo-1"],"instance_groups":[{"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge",)"
            R"("hosts":["algo-1"]}],"network_interface_name":"eth0"})");
}

TEST(ContractConfig, ResourceConfigThreeHosts) {
  JobSpec s = basic_job(3);
  EXPECT_EQ(dump(resourceconfig_json(s, "algo-2")),
            R"({"current_host":"algo-2","current_instance_type":"ml.m5.xlarge","current_group_name":"homogeneousCluster",)"
            R"("hosts":["algo-1","algo-2","algo-3"],"instance_groups":[{"instance_group_name":"homogeneousCluster",)"
            R"("instance_type":"ml.m5.xlarge","hosts":["algo-1","algo-2","algo-3"]}],"network_interface_name":"eth0"})");
  EXPECT_EQ(resourceconfig_json(s, "algo-3", "ens5")["network_interface_name"], "ens5");
}

TEST(ContractConfig, ResourceConfigTwelveHostsInNumericOrder) {
  JobSpec s = basic_job(12);
  const std::string hosts =
      R"(["algo-1","algo-2","algo-3","algo-4","algo-5","algo-6","algo-7","algo-8","algo-9","algo-10","algo-11","algo-12"])";
  EXPECT_EQ(dump(resourceconfig_json(s, "algo-12")),
            R"({"current_host":"algo-12","current_instance_type":"ml.m5.xlarge","current_group_name":"homogeneousCluster",)"
            R"("hosts":)" + hosts + R"(,"instance_groups":[{"instance_group_name":"homogeneousCluster",)"
            R"("instance_type":"ml.m5.xlarge","hosts":)" + hosts + R"(}],"network_interface_name":"eth0"})");
}

TEST(ContractConfig, ResourceConfigUnknownHostIsRefused) {
  JobSpec s = basic_job(3);
  for (std::string bad : {"algo-0", "algo-4", "", "localhost"}) {
    EXPECT_EQ(kind_of([&] { resourceconfig_json(s, bad); }), ErrorKind::kInvalidInput) << bad;
  }
  try {
    resourceconfig_json(s, "algo-4");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("algo-1..algo-3"), std::string::npos) << e.what();
  }
}

TEST(ContractConfig, ResourceConfigWithoutInstanceTypeSaysLocal) {
  JobSpec s = basic_job(1);
  s.resources.instance_type.clear();
  auto doc = resourceconfig_json(s, "algo-1");
  EXPECT_EQ(doc["current_instance_type"], "local");
  EXPECT_EQ(doc["instance_groups"][0]["instance_type"], "local");
}

TEST(ContractConfig, ResourceConfigHeterogeneous) {
  JobSpec s = basic_job(0);
  s.resources.instance_type.clear();
  s.resources.instance_groups = {{"train1", "ml.p3.16xlarge", 2}, {"train2", "ml.p3.8xlarge", 1}};
  EXPECT_EQ(dump(resourceconfig_json(s, "algo-3")),
            R"({"current_host":"algo-3","current_instance_type":"ml.p3.8xlarge","current_group_name":"train2",)"
            R"("hosts":["algo-1","algo-2","algo-3"],"instance_groups":[)"
            R"({"instance_group_name":"train1","instance_type":"ml.p3.16xlarge","hosts":["algo-1","algo-2"]},)"
            R"({"instance_group_name":"train2","instance_type":"ml.p3.8xlarge","hosts":["algo-3"]}],)"
            R"("network_interface_name":"eth0"})");
  // A channel limited to train1 reaches algo-1 and algo-2 only.
  Channel only1 = s3_channel("only1");
  only1.s3->instance_group_names = {"train1"};
  s.channels = {s3_channel("all"), only1};
  EXPECT_TRUE(channel_on_host(s, s.channels[1], "algo-2"));
  EXPECT_FALSE(channel_on_host(s, s.channels[1], "algo-3"));
  EXPECT_TRUE(channel_on_host(s, s.channels[0], "algo-3"));
  EXPECT_EQ(inputdataconfig_json(s, "algo-3").size(), 1u);
  EXPECT_EQ(inputdataconfig_json(s, "algo-1").size(), 2u);
  EXPECT_EQ(inputdataconfig_json(s).size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Python encodings

TEST(ContractEncoding, FloatsLikePythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {0.001, "0.001"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {123456789.0, "123456789.0"},
      {1.5, "1.5"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e22, "1e+22"},
      {5e-324, "5e-324"},
      {1.7976931348623157e+308, "1.7976931348623157e+308"},
      {100.0, "100.0"},
      {2.5e-7, "2.5e-07"},
      {-1234.5678, "-1234.5678"},
      {9999999999999998.0, "9999999999999998.0"},
      {12345678901234567.0, "1.2345678901234568e+16"},
  };
  for (const auto& [d, text] : cases) {
    EXPECT_EQ(python_json_dumps(ContractJson(d)), text);
    EXPECT_EQ(python_str(ContractJson(d)), text);
  }
  EXPECT_EQ(python_json_dumps(ContractJson(std::numeric_limits<double>::quiet_NaN())), "NaN");
  EXPECT_EQ(python_json_dumps(ContractJson(-std::numeric_limits<double>::infinity())), "-Infinity");
  EXPECT_EQ(python_str(ContractJson(std::numeric_limits<double>::infinity())), "inf");
}

TEST(ContractEncoding, DumpsSortsKeysCompactEnsureAscii) {
  ContractJson v = ContractJson::parse(R"({"b":[1,2.0,"x"],"a":{"z":null,"y":false},"é":"\u00e9\ud83d\ude00\u007f\u0001\t\"\\/"})");
  EXPECT_EQ(python_json_dumps(v),
            R"({"a":{"y":false,"z":null},"b":[1,2.0,"x"],"\u00e9":"\u00e9\ud83d\ude00\u007f\u0001\t\"\\/"})");
  EXPECT_EQ(python_json_dumps(ContractJson(static_cast<uint64_t>(18446744073709551615ULL))), "18446744073709551615");
  EXPECT_EQ(python_json_dumps(ContractJson(static_cast<int64_t>(-9))), "-9");
  EXPECT_EQ(kind_of([] { python_json_dumps(ContractJson(std::string("\xFF"))); }), ErrorKind::kInvalidInput);
}

TEST(ContractEncoding, StrLikePython) {
  ContractJson v = ContractJson::parse(
      R"(["it's","a\"b","a'b\"c",null,true,1.0,{"k":[1,"x"]},"\u00a0\u00e9\n\u007f\u200b"])");
  EXPECT_EQ(python_str(v), "[\"it's\", 'a\"b', 'a\\'b\"c', None, True, 1.0, {'k': [1, 'x']}, '\\xa0\xC3\xA9\\n\\x7f\\u200b']");
  EXPECT_EQ(python_str(ContractJson("plain")), "plain");
  EXPECT_EQ(python_str(ContractJson(nullptr)), "None");
  EXPECT_EQ(python_str(ContractJson(false)), "False");
  // Insertion order, as a Python dict read from JSON keeps it.
  EXPECT_EQ(python_str(ContractJson::parse(R"({"b":1,"a":2})")), "{'b': 1, 'a': 2}");
}

TEST(ContractEncoding, DecodeHyperparameterLikeJsonLoads) {
  EXPECT_EQ(decode_hyperparameter("10"), ContractJson(10));
  EXPECT_EQ(decode_hyperparameter(" 5 "), ContractJson(5));
  EXPECT_EQ(decode_hyperparameter("\"adam\""), ContractJson("adam"));
  EXPECT_EQ(decode_hyperparameter("adam"), ContractJson("adam"));
  EXPECT_EQ(decode_hyperparameter(""), ContractJson(""));
  EXPECT_EQ(decode_hyperparameter("null"), ContractJson(nullptr));
  EXPECT_EQ(decode_hyperparameter("[1, 2"), ContractJson("[1, 2"));
  EXPECT_EQ(decode_hyperparameter("1."), ContractJson("1."));
  EXPECT_EQ(decode_hyperparameter("\xEF\xBB\xBF" "1"), ContractJson("\xEF\xBB\xBF" "1"));  // BOM: not JSON to Python
  EXPECT_TRUE(std::isnan(decode_hyperparameter("NaN").get<double>()));
  EXPECT_EQ(python_env_value(decode_hyperparameter(" -Infinity")), "-Infinity");
  EXPECT_EQ(python_env_value(decode_hyperparameter("1e3")), "1000.0");
  EXPECT_EQ(python_env_value(decode_hyperparameter("-0")), "0");
  EXPECT_EQ(python_env_value(decode_hyperparameter("{\"b\": [1, {\"d\": 1, \"c\": 2}], \"a\": \"x\"}")),
            R"({"a":"x","b":[1,{"c":2,"d":1}]})");
}

TEST(ContractEncoding, CmdArgsLikeToolkit) {
  ContractJson hps = ContractJson::parse(R"({"lr":0.1,"x":1,"flag":true,"none":null,"d":{"b":"y","a":[1,"z"]},"s":"it's"})");
  EXPECT_EQ(python_cmd_args(hps), (std::vector<std::string>{"-d", "a=[1, 'z'],b=y", "--flag", "True", "--lr", "0.1",
                                                            "--none", "", "-s", "it's", "-x", "1"}));
  EXPECT_EQ(python_cmd_args(ContractJson::parse(R"({"\u00e9":"1"})")), (std::vector<std::string>{"-\xC3\xA9", "1"}));
}

// ---------------------------------------------------------------------------------------------
// Environment

// Every variable the realistic job's algo-2 gets, exactly (values from the toolkit's logic in
// Python; see the header comment).
const std::map<std::string, std::string>& expected_realistic_environment() {
  static const std::map<std::string, std::string> kEnv = {
      {"MY_FLAG", "1"},
      {"TRAINING_JOB_NAME", "demo-train-7"},
      {"TRAINING_JOB_ARN", "arn:aws:sagemaker:us-west-2:123456789012:training-job/demo-train-7"},
      {"CURRENT_HOST", "algo-2"},
      {"SAGEMAKER_JOB_NAME", ""},
      {"SAGEMAKER_REGION", "eu-west-1"},
      {"SM_CHANNELS", R"(["fsx","stream","train","val-set.v2"])"},
      {"SM_CHANNEL_FSX", "/opt/ml/input/data/fsx"},
      {"SM_CHANNEL_STREAM", "/opt/ml/input/data/stream"},
      {"SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"},
      {"SM_CHANNEL_VAL-SET.V2", "/opt/ml/input/data/val-set.v2"},
      {"SM_CURRENT_HOST", "algo-2"},
      {"SM_CURRENT_INSTANCE_GROUP", "homogeneousCluster"},
      {"SM_CURRENT_INSTANCE_GROUP_HOSTS", R"(["algo-1","algo-2"])"},
      {"SM_CURRENT_INSTANCE_TYPE", "ml.m5.xlarge"},
      {"SM_DISTRIBUTION_INSTANCE_GROUPS", "[]"},
      {"SM_FRAMEWORK_MODULE", ""},
      {"SM_FRAMEWORK_PARAMS", R"({"sagemaker_mpi_enabled":false})"},
      {"SM_HOSTS", R"(["algo-1","algo-2"])"},
      {"SM_HPS",
       R"({"big":1e+16,"config":{"a":true,"b":1,"s":"it's"},"dropout":null,"epochs":10,"layers":[64,32],)"
       R"("learning-rate":0.001,"model.name":"resnet","name":"caf\u00e9","optimizer":"adam","tiny":1e-05,)"
       R"("verbose":true,"x":1})"},
      {"SM_HP_BIG", "1e+16"},
      {"SM_HP_CONFIG", R"({"a":true,"b":1,"s":"it's"})"},
      {"SM_HP_DROPOUT", ""},
      {"SM_HP_EPOCHS", "10"},
      {"SM_HP_LAYERS", "[64,32]"},
      {"SM_HP_LEARNING-RATE", "0.001"},
      {"SM_HP_MODEL.NAME", "resnet"},
      {"SM_HP_NAME", "caf\xC3\xA9"},
      {"SM_HP_OPTIMIZER", "adam"},
      {"SM_HP_TINY", "1e-05"},
      {"SM_HP_VERBOSE", "true"},
      {"SM_HP_X", "1"},
      {"SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"},
      {"SM_INPUT_DATA_CONFIG",
       R"({"fsx":{"RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"File"},)"
       R"("stream":{"ContentType":"application/x-recordio","RecordWrapperType":"RecordIO","S3DistributionType":"ShardedByS3Key",)"
       R"("TrainingInputMode":"Pipe"},"train":{"ContentType":"text/csv","RecordWrapperType":"None",)"
       R"("S3DistributionType":"ShardedByS3Key","TrainingInputMode":"File"},"val-set.v2":{"RecordWrapperType":"None",)"
       R"("S3DistributionType":"FullyReplicated","TrainingInputMode":"FastFile"}})"},
      {"SM_INPUT_DIR", "/opt/ml/input"},
      {"SM_INSTANCE_GROUPS", R"(["homogeneousCluster"])"},
      {"SM_INSTANCE_GROUPS_DICT",
       R"({"homogeneousCluster":{"hosts":["algo-1","algo-2"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge"}})"},
      {"SM_IS_HETERO", "false"},
      {"SM_LOG_LEVEL", "10"},
      {"SM_MODEL_DIR", "/opt/ml/model"},
      {"SM_MODULE_DIR", "/opt/ml/code"},
      {"SM_MODULE_NAME", "train"},
      {"SM_NETWORK_INTERFACE_NAME", "eth0"},
      {"SM_NUM_CPUS", "8"},
      {"SM_NUM_GPUS", "1"},
      {"SM_NUM_NEURONS", "0"},
      {"SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"},
      {"SM_OUTPUT_DIR", "/opt/ml/output"},
      {"SM_OUTPUT_INTERMEDIATE_DIR", "/opt/ml/output/intermediate"},
      {"SM_RESOURCE_CONFIG",
       R"({"current_group_name":"homogeneousCluster","current_host":"algo-2","current_instance_type":"ml.m5.xlarge",)"
       R"("hosts":["algo-1","algo-2"],"instance_groups":[{"hosts":["algo-1","algo-2"],"instance_group_name":"homogeneousCluster",)"
       R"("instance_type":"ml.m5.xlarge"}],"network_interface_name":"eth0"})"},
      {"SM_TRAINING_ENV",
       R"({"additional_framework_parameters":{"sagemaker_mpi_enabled":false},"channel_input_dirs":{"fsx":"/opt/ml/input/data/fsx",)"
       R"("stream":"/opt/ml/input/data/stream","train":"/opt/ml/input/data/train","val-set.v2":"/opt/ml/input/data/val-set.v2"},)"
       R"("current_host":"algo-2","current_instance_group":"homogeneousCluster","current_instance_group_hosts":["algo-1","algo-2"],)"
       R"("current_instance_type":"ml.m5.xlarge","distribution_hosts":[],"distribution_instance_groups":[],"framework_module":null,)"
       R"("hosts":["algo-1","algo-2"],"hyperparameters":{"big":1e+16,"config":{"a":true,"b":1,"s":"it's"},"dropout":null,)"
       R"("epochs":10,"layers":[64,32],"learning-rate":0.001,"model.name":"resnet","name":"caf\u00e9","optimizer":"adam",)"
       R"("tiny":1e-05,"verbose":true,"x":1},"input_config_dir":"/opt/ml/input/config","input_data_config":{"fsx":)"
       R"({"RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"File"},"stream":)"
       R"({"ContentType":"application/x-recordio","RecordWrapperType":"RecordIO","S3DistributionType":"ShardedByS3Key",)"
       R"("TrainingInputMode":"Pipe"},"train":{"ContentType":"text/csv","RecordWrapperType":"None","S3DistributionType":)"
       R"("ShardedByS3Key","TrainingInputMode":"File"},"val-set.v2":{"RecordWrapperType":"None","S3DistributionType":)"
       R"("FullyReplicated","TrainingInputMode":"FastFile"}},"input_dir":"/opt/ml/input","instance_groups":["homogeneousCluster"],)"
       R"("instance_groups_dict":{"homogeneousCluster":{"hosts":["algo-1","algo-2"],"instance_group_name":"homogeneousCluster",)"
       R"("instance_type":"ml.m5.xlarge"}},"is_hetero":false,"is_master":false,"is_modelparallel_enabled":null,)"
       R"("job_name":"demo-train-7","log_level":10,"master_hostname":"algo-1","model_dir":"/opt/ml/model",)"
       R"("module_dir":"/opt/ml/code","module_name":"train","network_interface_name":"eth0","num_cpus":8,"num_gpus":1,)"
       R"("num_neurons":0,"output_data_dir":"/opt/ml/output/data","output_dir":"/opt/ml/output",)"
       R"("output_intermediate_dir":"/opt/ml/output/intermediate","resource_config":{"current_group_name":"homogeneousCluster",)"
       R"("current_host":"algo-2","current_instance_type":"ml.m5.xlarge","hosts":["algo-1","algo-2"],"instance_groups":)"
       R"([{"hosts":["algo-1","algo-2"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge"}],)"
       R"("network_interface_name":"eth0"},"user_entry_point":"train.py"})"},
      {"SM_USER_ARGS",
       R"(["--big","1e+16","--config","a=True,b=1,s=it's","--dropout","","--epochs","10","--layers","[64, 32]",)"
       R"("--learning-rate","0.001","--model.name","resnet","--name","caf\u00e9","--optimizer","adam","--tiny","1e-05",)"
       R"("--verbose","True","-x","1"])"},
      {"SM_USER_ENTRY_POINT", "train.py"},
  };
  return kEnv;
}

TEST(ContractEnvironment, RealisticJobEveryVariableExactly) {
  auto env = container_environment(realistic_job(), "algo-2", realistic_options());
  const auto& expected = expected_realistic_environment();
  for (const auto& [k, v] : expected) {
    auto it = env.find(k);
    if (it == env.end()) {
      ADD_FAILURE() << "missing " << k;
      continue;
    }
    EXPECT_EQ(it->second, v) << k;
  }
  for (const auto& [k, v] : env) EXPECT_TRUE(expected.count(k)) << "unexpected " << k << "=" << v;
}

TEST(ContractEnvironment, TrainingEnvHasTheToolkitKeys) {
  auto env = container_environment(realistic_job(), "algo-2", realistic_options());
  nlohmann::json doc = nlohmann::json::parse(env.at("SM_TRAINING_ENV"));
  std::set<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.insert(k);
  const std::set<std::string> expected = {
      "additional_framework_parameters", "channel_input_dirs", "current_host", "current_instance_group",
      "current_instance_group_hosts", "current_instance_type", "distribution_hosts", "distribution_instance_groups",
      "framework_module", "hosts", "hyperparameters", "input_config_dir", "input_data_config", "input_dir",
      "instance_groups", "instance_groups_dict", "is_hetero", "is_master", "is_modelparallel_enabled", "job_name",
      "log_level", "master_hostname", "model_dir", "module_dir", "module_name", "network_interface_name", "num_cpus",
      "num_gpus", "num_neurons", "output_data_dir", "output_dir", "output_intermediate_dir", "resource_config",
      "user_entry_point"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(doc["hyperparameters"]["epochs"], 10);
  EXPECT_EQ(doc["hyperparameters"]["optimizer"], "adam");
  EXPECT_EQ(doc["channel_input_dirs"]["val-set.v2"], "/opt/ml/input/data/val-set.v2");
  EXPECT_EQ(doc["resource_config"], nlohmann::json::parse(env.at("SM_RESOURCE_CONFIG")));
  EXPECT_EQ(doc["input_data_config"], nlohmann::json::parse(env.at("SM_INPUT_DATA_CONFIG")));
  EXPECT_EQ(doc["hyperparameters"], nlohmann::json::parse(env.at("SM_HPS")));
  // The same document through the structured accessor.
  EXPECT_EQ(python_json_dumps(training_env_json(realistic_job(), "algo-2", realistic_options())), env.at("SM_TRAINING_ENV"));
}

TEST(ContractEnvironment, RootFollowsOptions) {
  ContractOptions o = realistic_options();
  o.opt_ml_root = "/var/lib/sluice/jobs/demo-train-7/algo-2/opt-ml/";  // the no-bubblewrap fallback
  auto env = container_environment(realistic_job(), "algo-2", o);
  const std::string r = "/var/lib/sluice/jobs/demo-train-7/algo-2/opt-ml";
  EXPECT_EQ(env.at("SM_MODEL_DIR"), r + "/model");
  EXPECT_EQ(env.at("SM_INPUT_DIR"), r + "/input");
  EXPECT_EQ(env.at("SM_INPUT_CONFIG_DIR"), r + "/input/config");
  EXPECT_EQ(env.at("SM_OUTPUT_DIR"), r + "/output");
  EXPECT_EQ(env.at("SM_OUTPUT_DATA_DIR"), r + "/output/data");
  EXPECT_EQ(env.at("SM_OUTPUT_INTERMEDIATE_DIR"), r + "/output/intermediate");
  EXPECT_EQ(env.at("SM_MODULE_DIR"), r + "/code");
  EXPECT_EQ(env.at("SM_CHANNEL_TRAIN"), r + "/input/data/train");
  EXPECT_EQ(env.at("SM_CHANNEL_VAL-SET.V2"), r + "/input/data/val-set.v2");
  auto doc = nlohmann::json::parse(env.at("SM_TRAINING_ENV"));
  EXPECT_EQ(doc["model_dir"], r + "/model");
  EXPECT_EQ(doc["channel_input_dirs"]["fsx"], r + "/input/data/fsx");
}

TEST(ContractEnvironment, PlatformAndToolkitWinOverEnvironment) {
  JobSpec s = realistic_job();
  s.environment["SM_MODEL_DIR"] = "/elsewhere";
  s.environment["TRAINING_JOB_ARN"] = "arn:fake";
  s.environment["CURRENT_HOST"] = "nope";
  s.environment["SM_CUSTOM"] = "kept";
  auto env = container_environment(s, "algo-1", realistic_options());
  EXPECT_EQ(env.at("SM_MODEL_DIR"), "/opt/ml/model");
  EXPECT_EQ(env.at("SM_HOSTS"), R"(["algo-1","algo-2"])");
  EXPECT_EQ(env.at("TRAINING_JOB_NAME"), "demo-train-7");
  EXPECT_EQ(env.at("TRAINING_JOB_ARN"), "arn:aws:sagemaker:us-west-2:123456789012:training-job/demo-train-7");
  EXPECT_EQ(env.at("CURRENT_HOST"), "algo-1");
  EXPECT_EQ(env.at("SM_CUSTOM"), "kept");
  EXPECT_EQ(env.at("MY_FLAG"), "1");
}

TEST(ContractEnvironment, MasterAndDistribution) {
  JobSpec s = realistic_job();
  auto doc1 = training_env_json(s, "algo-1", realistic_options());
  EXPECT_EQ(doc1["is_master"], true);
  EXPECT_EQ(doc1["master_hostname"], "algo-1");
  s.hyperparameters["sagemaker_mpi_enabled"] = "true";
  auto env = container_environment(s, "algo-2", realistic_options());
  EXPECT_EQ(env.at("SM_DISTRIBUTION_INSTANCE_GROUPS"), R"(["homogeneousCluster"])");
  EXPECT_EQ(env.at("SM_FRAMEWORK_PARAMS"), R"({"sagemaker_mpi_enabled":true})");
  auto doc = nlohmann::json::parse(env.at("SM_TRAINING_ENV"));
  EXPECT_EQ(doc["distribution_hosts"], nlohmann::json::parse(R"(["algo-1","algo-2"])"));
  EXPECT_EQ(doc["is_master"], false);
}

TEST(ContractEnvironment, ProgramAndModuleFromEnvironmentOrAbsent) {
  JobSpec s = basic_job(1);
  auto env = container_environment(s, "algo-1", ContractOptions{});
  EXPECT_EQ(env.at("SM_MODULE_NAME"), "None");  // the toolkit's str(None)
  EXPECT_EQ(env.at("SM_USER_ENTRY_POINT"), "");
  EXPECT_EQ(env.at("SM_FRAMEWORK_MODULE"), "");
  EXPECT_EQ(env.at("SM_LOG_LEVEL"), "20");
  EXPECT_EQ(env.at("SM_FRAMEWORK_PARAMS"), "{}");
  EXPECT_EQ(env.at("SM_HPS"), R"({"epochs":3})");
  EXPECT_EQ(env.at("SM_USER_ARGS"), R"(["--epochs","3"])");
  EXPECT_EQ(env.at("SM_NUM_CPUS"), "1");
  EXPECT_EQ(env.at("SAGEMAKER_REGION"), "us-east-1");
  EXPECT_EQ(env.at("TRAINING_JOB_ARN"), "arn:aws:sagemaker:us-east-1:123456789012:training-job/demo-1");
  EXPECT_EQ(nlohmann::json::parse(env.at("SM_TRAINING_ENV"))["user_entry_point"], nullptr);

  s.environment = {{"SAGEMAKER_PROGRAM", "entry.py"},
                   {"SAGEMAKER_TRAINING_MODULE", "my_framework.training:main"},
                   {"SM_HP_MP_PARAMETERS", "{\"partitions\": 2}"}};
  s.hyperparameters["sagemaker_submit_directory"] = "\"s3://b/src/sourcedir.tar.gz\"";
  s.hyperparameters["sagemaker_job_name"] = "\"demo-1\"";
  env = container_environment(s, "algo-1", ContractOptions{});
  EXPECT_EQ(env.at("SM_MODULE_NAME"), "entry");
  EXPECT_EQ(env.at("SM_USER_ENTRY_POINT"), "entry.py");
  EXPECT_EQ(env.at("SM_FRAMEWORK_MODULE"), "my_framework.training:main");
  EXPECT_EQ(env.at("SM_MODULE_DIR"), "s3://b/src/sourcedir.tar.gz");
  EXPECT_EQ(env.at("SAGEMAKER_JOB_NAME"), "demo-1");
  EXPECT_EQ(env.at("SAGEMAKER_PROGRAM"), "entry.py");  // the Environment entry itself stays
  auto doc = nlohmann::json::parse(env.at("SM_TRAINING_ENV"));
  EXPECT_EQ(doc["is_modelparallel_enabled"], true);
  EXPECT_FALSE(doc["hyperparameters"].contains("sagemaker_job_name"));
}

TEST(ContractEnvironment, HeterogeneousCluster) {
  JobSpec s = basic_job(0);
  s.resources.instance_type.clear();
  s.resources.instance_groups = {{"train1", "ml.p3.16xlarge", 2}, {"train2", "ml.p3.8xlarge", 1}};
  Channel only1 = s3_channel("only1");
  only1.s3->instance_group_names = {"train1"};
  s.channels = {s3_channel("all"), only1};
  auto env = container_environment(s, "algo-3", ContractOptions{});
  EXPECT_EQ(env.at("SM_IS_HETERO"), "true");
  EXPECT_EQ(env.at("SM_CURRENT_INSTANCE_GROUP"), "train2");
  EXPECT_EQ(env.at("SM_CURRENT_INSTANCE_TYPE"), "ml.p3.8xlarge");
  EXPECT_EQ(env.at("SM_CURRENT_INSTANCE_GROUP_HOSTS"), R"(["algo-3"])");
  EXPECT_EQ(env.at("SM_INSTANCE_GROUPS"), R"(["train1","train2"])");
  EXPECT_EQ(env.at("SM_HOSTS"), R"(["algo-1","algo-2","algo-3"])");
  EXPECT_EQ(env.at("SM_CHANNELS"), R"(["all"])");
  EXPECT_EQ(env.count("SM_CHANNEL_ONLY1"), 0u);
  EXPECT_EQ(container_environment(s, "algo-1", ContractOptions{}).at("SM_CHANNELS"), R"(["all","only1"])");
}

TEST(ContractEnvironment, UnknownHostIsRefused) {
  EXPECT_EQ(kind_of([] { container_environment(basic_job(2), "algo-3", ContractOptions{}); }), ErrorKind::kInvalidInput);
}

TEST(ContractEnvironment, HyperparameterNamesUpperCasedAsIs) {
  JobSpec s = basic_job(1);
  s.hyperparameters = {{"batch-size", "256"}, {"Mixed.Case_name", "\"v\""}, {"a=b", "1"}};
  auto env = container_environment(s, "algo-1", ContractOptions{});
  EXPECT_EQ(env.at("SM_HP_BATCH-SIZE"), "256");
  EXPECT_EQ(env.at("SM_HP_MIXED.CASE_NAME"), "v");
  EXPECT_EQ(env.count("SM_HP_A=B"), 0u);  // cannot be an environment variable name
  EXPECT_EQ(env.at("SM_HPS"), R"({"Mixed.Case_name":"v","a=b":1,"batch-size":256})");
}

TEST(ContractEnvironment, ArnAccountAndPartition) {
  JobSpec s = basic_job(1);
  ContractOptions o;
  o.region = "eu-central-1";
  EXPECT_EQ(training_job_arn(s, o), "arn:aws:sagemaker:eu-central-1:123456789012:training-job/demo-1");
  s.role_arn = "arn:aws-cn:iam::210987654321:role/service-role/x";
  EXPECT_EQ(training_job_arn(s, o), "arn:aws-cn:sagemaker:eu-central-1:210987654321:training-job/demo-1");
  s.role_arn = "not-an-arn";
  EXPECT_EQ(training_job_arn(s, o), "arn:aws:sagemaker:eu-central-1:000000000000:training-job/demo-1");
  s.role_arn = "arn:aws:iam::12345:role/x";  // not a 12-digit account
  EXPECT_EQ(training_job_arn(s, o), "arn:aws:sagemaker:eu-central-1:000000000000:training-job/demo-1");
  o.account_id = "111122223333";
  EXPECT_EQ(training_job_arn(s, o), "arn:aws:sagemaker:eu-central-1:111122223333:training-job/demo-1");
}

// ---------------------------------------------------------------------------------------------
// Disk

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-contract-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.insert(fs::relative(e.path(), root).string() + (e.is_directory() ? "/" : ""));
  }
  return out;
}

TEST(ContractDisk, PathUnderRoot) {
  const fs::path root = "/jobs/j/algo-1";
  EXPECT_EQ(path_under_root("/opt/ml/checkpoints", root), fs::path("/jobs/j/algo-1/checkpoints"));
  EXPECT_EQ(path_under_root("/opt/ml/checkpoints/", root), fs::path("/jobs/j/algo-1/checkpoints"));
  EXPECT_EQ(path_under_root("/opt/ml/a/./b/../c", root), fs::path("/jobs/j/algo-1/a/c"));
  EXPECT_EQ(path_under_root("/opt/ml", root), root);
  EXPECT_EQ(path_under_root("/opt/ml/", root), root);
  EXPECT_EQ(path_under_root("/opt/mlx/checkpoints", root), std::nullopt);
  EXPECT_EQ(path_under_root("/opt/ml/../etc", root), std::nullopt);
  EXPECT_EQ(path_under_root("/tmp/ckpt", root), std::nullopt);
  EXPECT_EQ(path_under_root("opt/ml/checkpoints", root), std::nullopt);
}

TEST(ContractDisk, WritesLayoutAndFiles) {
  TempDir tmp;
  const fs::path root = tmp.path() / "algo-2" / "opt-ml";  // created by the call
  JobSpec s = realistic_job();
  s.checkpoint = CheckpointConfig{"s3://bucket/ckpt/", "/opt/ml/checkpoints"};
  mode_t old = ::umask(077);  // the files are 0644 whatever the umask
  write_config_files(root, s, "algo-2");
  ::umask(old);

  EXPECT_EQ(tree(root), (std::set<std::string>{
                            "checkpoints/", "code/", "input/", "input/config/", "input/config/hyperparameters.json",
                            "input/config/inputdataconfig.json", "input/config/resourceconfig.json", "input/data/",
                            "input/data/fsx/", "input/data/train/", "input/data/val-set.v2/", "model/", "output/",
                            "output/data/", "output/intermediate/"}));
  // No directory for the Pipe channel: its FIFOs are input/data/stream_<epoch>.
  const fs::path config = root / "input" / "config";
  EXPECT_EQ(read_file(config / "hyperparameters.json"), dump(hyperparameters_json(s)) + "\n");
  EXPECT_EQ(read_file(config / "inputdataconfig.json"), dump(inputdataconfig_json(s, "algo-2")) + "\n");
  EXPECT_EQ(read_file(config / "resourceconfig.json"), dump(resourceconfig_json(s, "algo-2")) + "\n");
  EXPECT_EQ(nlohmann::json::parse(read_file(config / "resourceconfig.json"))["current_host"], "algo-2");
  for (const char* f : {"hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"}) {
    EXPECT_EQ(mode_of(config / f), 0644u) << f;
  }

  // A second run replaces the files (atomically) and leaves no temporary behind.
  s.hyperparameters = {{"epochs", "99"}};
  write_config_files(root, s, "algo-2");
  EXPECT_EQ(read_file(config / "hyperparameters.json"), "{\"epochs\":\"99\"}\n");
  for (const auto& e : fs::directory_iterator(config)) {
    EXPECT_EQ(e.path().filename().string().find(".sluice-partial"), std::string::npos) << e.path();
  }
}

TEST(ContractDisk, CheckpointOutsideOptMlIsNotCreated) {
  TempDir tmp;
  JobSpec s = basic_job(1);
  s.checkpoint = CheckpointConfig{"s3://bucket/ckpt/", (tmp.path() / "elsewhere").string()};
  write_config_files(tmp.path() / "root", s, "algo-1");
  EXPECT_FALSE(fs::exists(tmp.path() / "elsewhere"));
  EXPECT_FALSE(fs::exists(tmp.path() / "root" / "checkpoints"));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "root" / "input" / "data" / "train"));

  JobSpec custom = basic_job(1);
  custom.checkpoint = CheckpointConfig{"s3://bucket/ckpt/", "/opt/ml/state/ckpt/"};
  write_config_files(tmp.path() / "root2", custom, "algo-1");
  EXPECT_TRUE(fs::is_directory(tmp.path() / "root2" / "state" / "ckpt"));
}

TEST(ContractDisk, UnknownHostWritesNothing) {
  TempDir tmp;
  EXPECT_EQ(kind_of([&] { write_config_files(tmp.path() / "root", basic_job(2), "algo-3"); }), ErrorKind::kInvalidInput);
  EXPECT_FALSE(fs::exists(tmp.path() / "root"));
}

TEST(ContractDisk, ChannelNameThatIsNotADirectoryIsRefused) {
  TempDir tmp;
  JobSpec s = basic_job(1);
  s.channels.push_back(s3_channel(".."));
  EXPECT_EQ(kind_of([&] { write_config_files(tmp.path() / "root", s, "algo-1"); }), ErrorKind::kInvalidInput);
  EXPECT_FALSE(fs::exists(tmp.path() / "root"));
}

TEST(ContractDisk, FileInTheWayIsAnError) {
  TempDir tmp;
  const fs::path root = tmp.path() / "root";
  fs::create_directories(root);
  std::ofstream(root / "model") << "not a directory";
  EXPECT_NE(kind_of([&] { write_config_files(root, basic_job(1), "algo-1"); }), ErrorKind::kInternal);
}

}  // namespace
}  // namespace sluice::job
