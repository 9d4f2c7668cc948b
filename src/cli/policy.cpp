// `sluice policy simulate --input FILE [--explain]` (docs/policy.md): evaluates one request against
// identity and session policies, the way the job's storage accesses will be evaluated.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "core/json_input.hpp"
#include "policy/evaluate.hpp"

namespace sluice::cli {
namespace {

// The input's name for messages ("policy simulation input sim.json", or "(stdin)"); set once.
std::string g_name = "policy simulation input";

Error bad(const std::string& where, const std::string& why) {
  return Error(ErrorKind::kInvalidInput, g_name + ": " + where, why);
}

std::string read_input(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw errno_error(EISDIR, "reading the policy simulation input", path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw errno_error(errno, "reading the policy simulation input", path);
    text << in.rdbuf();
  }
  return text.str();
}

// A policy given as a JSON object, or as a string holding the document's JSON text (then error
// positions refer to that string).
std::vector<policy::Document> documents(const nlohmann::json& list, const std::string& where) {
  std::vector<policy::Document> out;
  if (list.is_null()) return out;
  if (!list.is_array()) throw bad(where, "must be a list of policy documents");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", where, i);
    try {
      if (list[i].is_string()) {
        out.push_back(policy::parse_document(list[i].get<std::string>()));
      } else if (list[i].is_object()) {
        out.push_back(policy::parse_document(list[i].dump()));
      } else {
        throw bad(at, "must be a policy document (a JSON object, or a string holding one)");
      }
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kInvalidInput || e.message().starts_with(g_name)) throw;
      throw Error(ErrorKind::kInvalidInput, g_name + ": " + at + ": " + e.message(), e.cause());
    }
  }
  return out;
}

std::string value_text(const nlohmann::json& v, const std::string& at) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  throw bad(at, "must be a string, a number, a boolean, or a list of them");
}

}  // namespace

int run_policy_simulate(const std::string& input, bool explain) {
  g_name = "policy simulation input " + (input == "-" ? std::string("(stdin)") : input);
  const std::string text = read_input(input);
  nlohmann::json doc = parse_json_input(text, g_name + ": ");
  if (!doc.is_object()) throw bad("top level", "must be an object with \"policies\" and \"request\"");
  for (const auto& [k, _] : doc.items()) {
    if (k != "policies" && k != "request") throw bad(k, "unknown member (expected \"policies\" and \"request\")");
  }
  if (!doc.contains("policies") || !doc["policies"].is_object()) throw bad("policies", "missing, or not an object");
  const auto& pol = doc["policies"];
  for (const auto& [k, _] : pol.items()) {
    if (k != "identity" && k != "session") throw bad("policies." + k, "unknown member (expected \"identity\" and \"session\")");
  }
  auto identity = documents(pol.value("identity", nlohmann::json()), "policies.identity");
  auto session = documents(pol.value("session", nlohmann::json()), "policies.session");
  if (!doc.contains("request") || !doc["request"].is_object()) throw bad("request", "missing, or not an object");
  const auto& req = doc["request"];
  policy::Request r;
  for (const auto& [k, v] : req.items()) {
    if (k == "action" && v.is_string()) {
      r.action = v.get<std::string>();
    } else if (k == "resource" && v.is_string()) {
      r.resource = v.get<std::string>();
    } else if (k == "context" && v.is_object()) {
      for (const auto& [key, value] : v.items()) {
        const std::string at = "request.context." + key;
        auto& values = r.context[key];
        if (value.is_array()) {
          for (size_t i = 0; i < value.size(); ++i) values.push_back(value_text(value[i], fmt::format("{}[{}]", at, i)));
        } else {
          values.push_back(value_text(value, at));
        }
      }
    } else {
      throw bad("request." + k, k == "action" || k == "resource" ? "must be a string"
                               : k == "context"                  ? "must be an object of condition keys"
                                                                 : "unknown member (expected action, resource, context)");
    }
  }
  if (r.action.empty()) throw bad("request.action", "missing (e.g. \"s3:GetObject\")");
  if (r.resource.empty()) throw bad("request.resource", "missing (e.g. \"arn:aws:s3:::bucket/key\")");

  policy::Decision d = policy::evaluate(identity, session, r);
  const char* name = d.outcome == policy::Outcome::kAllow          ? "Allow"
                     : d.outcome == policy::Outcome::kExplicitDeny ? "ExplicitDeny"
                                                                   : "ImplicitDeny";
  fmt::print("{}\n", name);
  if (explain) {
    if (d.statements.empty()) {
      fmt::print("  no statement allows {} on {}{}\n", r.action, r.resource,
                 session.empty() ? "" : " in both the identity and the session policies");
    }
    for (const auto& s : d.statements) {
      fmt::print("  {} policy {}, statement {}{}: {}\n", s.set == policy::PolicySet::kIdentity ? "identity" : "session",
                 s.policy, s.statement, s.sid.empty() ? "" : " (Sid " + s.sid + ")",
                 d.outcome == policy::Outcome::kExplicitDeny ? "Deny" : "Allow");
    }
  }
  return kExitOk;
}

}  // namespace sluice::cli
