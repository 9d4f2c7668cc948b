// The resolve phase (job_run.hpp): listings, then each host's tree, code and channel sinks.
#include <fmt/core.h>

#include "core/log.hpp"
#include "dataset/key_path.hpp"
#include "dataset/shard.hpp"
#include "job/phases/job_run.hpp"
#include "job/phases/script_code.hpp"
#include "modes/fastfile/sink.hpp"
#include "modes/file/channel.hpp"
#include "modes/filesystem/channel.hpp"
#include "modes/pipe/sink.hpp"
#include "store/open.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

dataset::SourceType source_type(S3DataType t) {
  switch (t) {
    case S3DataType::kManifestFile: return dataset::SourceType::kManifestFile;
    case S3DataType::kAugmentedManifestFile: return dataset::SourceType::kAugmentedManifestFile;
    default: return dataset::SourceType::kS3Prefix;
  }
}

// The FastFile and Pipe channels of this run: they share the job's budget.
size_t streaming_channels(const JobRun& run) {
  size_t count = 0;
  for (const auto& host : run.selected) {
    for (const auto& ch : run.spec.channels) {
      if (ch.s3 && run.spec.mode_of(ch) != InputMode::kFile && channel_on_host(run.spec, ch, host)) ++count;
    }
  }
  return count;
}

std::unique_ptr<modes::ChannelSink> s3_channel(JobRun& run, HostRun& host, const Channel& ch, size_t streaming) {
  const auto& src = run.sources.at(ch.name);
  const fs::path data = host.root / "input" / "data";
  dataset::ShardPlan plan;
  plan.distribution = ch.s3->distribution == Distribution::kShardedByS3Key ? dataset::Distribution::kShardedByS3Key
                                                                          : dataset::Distribution::kFullyReplicated;
  plan.hosts = run.hosts;
  plan.current_host = host.name;
  plan.shuffle_seed = ch.shuffle_seed;
  const InputMode mode = run.spec.mode_of(ch);
  if (mode == InputMode::kPipe) {
    modes::pipe::ChannelSpec ps;
    ps.name = ch.name;
    ps.dir = data;
    ps.source = &src;
    ps.store_for = run.stores.store_for();
    ps.plan = plan;
    ps.stream.framing = ch.record_wrapper == RecordWrapper::kRecordIO ? modes::pipe::Framing::kRecordIO : modes::pipe::Framing::kNone;
    ps.stream.gzip = ch.compression == Compression::kGzip;
    ps.stream.engine = &run.engine;
    ps.stream.budget = &run.budget;
    ps.stream.max_in_flight = run.options.store.max_connections;
    // What a Pipe channel has read ahead is not given back until the reader takes it: its window
    // is capped at its share of the budget, so that the other channels' read-ahead still fits
    // (FastFile's cache is reclaimable: FastFile takes no fixed share).
    ps.stream.max_window = run.budget.limit() / std::max<size_t>(streaming, 1);
    ps.on_failure = [&failed = run.channel_failed] { failed = true; };
    return std::make_unique<modes::pipe::Sink>(std::move(ps));
  }
  const auto share = dataset::share_for_epoch(src.objects.size(), plan, 0);
  if (mode == InputMode::kFastFile) {
    modes::fastfile::ChannelOptions co;
    co.reader.engine = &run.engine;
    co.reader.budget = &run.budget;
    co.mount.mountpoint = data / ch.name;
    co.mount.source = fmt::format("sluice:{}/{}", host.name, ch.name);
    std::vector<store::Address> addresses;
    for (size_t i : share) addresses.push_back(src.objects[i].address);
    return std::make_unique<modes::fastfile::Sink>(ch.name, run.stores(src.objects.front().address),
                                                   modes::fastfile::channel_entries(src.objects, share),
                                                   std::move(addresses), std::move(co));
  }
  modes::file::ChannelOptions fo;
  fo.name = ch.name;
  fo.host = host.name;
  fo.root = host.root;
  fo.record = run.job_dir / fmt::format(".sluice-downloads-{}-{}", host.name, ch.name);
  for (size_t i : share) {
    const auto& obj = src.objects[i];
    fo.items.push_back({store::ObjectInfo{obj.address.key, obj.size, obj.etag, 0}, (data / ch.name / obj.relative_path).string()});
  }
  // A channel that lists nothing reads nothing: it opens no store.
  store::ObjectStore* store = src.objects.empty() ? nullptr : &run.stores(src.objects.front().address);
  return std::make_unique<modes::file::Channel>(run.engine, store, std::move(fo));
}

}  // namespace

JobRun::JobRun(const JobSpec& spec, const TrainOptions& options, store::Registry& stores)
    : spec(spec),
      options(options),
      stores(stores),
      budget(options.max_memory ? options.max_memory : transfer::default_memory_limit()),
      engine(transfer::EngineOptions{options.store.max_connections}) {}

std::string client_error(const Error& e) {
  return std::string("ClientError: ") + (e.kind() == ErrorKind::kAccessDenied ? "AccessDenied: " : "") + e.what();
}

void resolve(JobRun& run) {
  const JobSpec& spec = run.spec;
  for (const auto& ch : spec.channels) {
    if (!ch.s3) continue;
    dataset::ResolveOptions ro;
    ro.file_paths = spec.mode_of(ch) != InputMode::kPipe;  // Pipe writes no files: any key goes
    run.sources[ch.name] = dataset::resolve_source(run.stores.store_for(), source_type(ch.s3->data_type), ch.s3->uri,
                                                   ch.s3->attribute_names, ro);
  }
  const size_t streaming = streaming_channels(run);
  std::optional<fs::path> script_file;  // script mode: the fetched source
  run.host_runs.resize(run.selected.size());
  for (size_t h = 0; h < run.selected.size(); ++h) {
    HostRun& host = run.host_runs[h];
    host.name = run.selected[h];
    host.root = run.job_dir / host.name;
    write_config_files(host.root, spec, host.name, run.contract.network_interface_name);
    if (run.script) {
      if (!run.script->source.empty() && !script_file) script_file = fetch_script_source(run);
      host.entry_point = install_script(*run.script, script_file, host.root, run.selected.size());
    }
    for (const auto& ch : spec.channels) {
      if (!channel_on_host(spec, ch, host.name)) continue;
      if (ch.file_system) {
        host.channels.push_back(std::make_unique<modes::filesystem::Channel>(
            ch.name, run.options.file_systems.resolve(ch), ch.file_system->access_mode == AccessMode::kRo));
      } else {
        host.channels.push_back(s3_channel(run, host, ch, streaming));
      }
    }
    host.writable = {"model", "output", "code"};
    if (spec.checkpoint) {
      fs::path local;
      if (auto under = path_under_root(spec.checkpoint->local_path, host.root)) {
        // Made by write_config_files without following a link; never /opt/ml itself nor below
        // input/ (the spec check refuses those), so the command gets only this directory.
        local = *under;
        host.writable.push_back(local.lexically_relative(host.root).generic_string());
      } else {
        local = run.job_dir / "checkpoints" / host.name;
        fs::create_directories(local);
        host.binds.push_back({local.string(), spec.checkpoint->local_path, false});
      }
      store::Address where = store::parse_address(dataset::directory_prefix(spec.checkpoint->s3_uri));
      host.checkpoints = std::make_unique<CheckpointSync>(run.engine, run.stores(where), where.key, local, host.name);
    }
  }
}

}  // namespace sluice::job
