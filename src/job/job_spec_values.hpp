// The value rules of a CreateTrainingJob request: the shapes of names, ARNs, ids, instance types
// and URIs (the API model's patterns plus Sluice's own; see docs/job-spec.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/json_check.hpp"

namespace sluice::job {

// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: letters, digits and hyphens, starting and ending with a letter or digit.
bool valid_job_name(std::string_view s);

// arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
bool valid_role_arn(std::string_view s);

// [A-Za-z0-9.\-_]* (the length is checked apart).
bool valid_channel_name(std::string_view s);

// fs-[0-9a-f]{8,}
bool valid_file_system_id(std::string_view s);

// The API's ArnOrName for AlgorithmName.
bool valid_algorithm_name(const std::string& s);

// ml.<family>.<size>, e.g. ml.m5.xlarge. The API's enum grows every few months; Sluice checks the shape.
bool valid_instance_type(std::string_view s);

// Whether a '/'-separated segment of `p` is "..".
bool has_dot_dot_segment(std::string_view p);

// An S3Uri or S3OutputPath: the API's (https|s3)://([^/]+)/?(.*) of at most 1024 characters, or
// file:///ABSOLUTE/PATH (Sluice's local-mode extension). Returns the problem, or "" when fine.
std::string uri_problem(const std::string& s);

// A URI field: a string that uri_problem finds fine.
std::optional<std::string> get_uri(json_check::Checker& c, const json_check::Node& n);

}  // namespace sluice::job
