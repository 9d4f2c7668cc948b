#include "serve/aws_protocol.hpp"

#include <fmt/core.h>

#include "core/strings.hpp"

namespace sluice::serve {
namespace {

constexpr std::string_view kStsVersion = "2011-06-15";
constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

// The X-Amz-Target prefixes of the JSON 1.1 services served, and their signing names.
struct JsonService {
  std::string_view prefix, service;
};
constexpr JsonService kJsonServices[] = {{"SageMaker", "sagemaker"}, {"Logs_20140328", "logs"}};

std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  for (std::string_view rest = body; !rest.empty();) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name = percent_decode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    out.emplace(std::move(name), std::move(value));  // the first of a repeated name counts
  }
  return out;
}

}  // namespace

Protocol protocol_of(std::string_view target) { return target.empty() ? Protocol::kQuery : Protocol::kJson11; }

std::variant<ApiCall, ApiError> parse_call(std::string_view target, std::string_view content_type,
                                           std::string_view body) {
  ApiCall call;
  if (!target.empty()) {
    call.protocol = Protocol::kJson11;
    const size_t dot = target.find('.');
    const std::string_view prefix = target.substr(0, dot);
    for (const auto& s : kJsonServices) {
      if (s.prefix == prefix) call.service = s.service;
    }
    if (call.service.empty() || dot == std::string_view::npos || dot + 1 == target.size()) {
      return ApiError{"UnknownOperationException", 400, fmt::format("unknown X-Amz-Target '{}'", escaped(target))};
    }
    call.operation = std::string(target.substr(dot + 1));
    try {
      call.input = body.empty() ? nlohmann::json::object() : nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception&) {
      return ApiError{"SerializationException", 400, "the request body is not valid JSON"};
    }
    if (!call.input.is_object()) return ApiError{"SerializationException", 400, "the request body is not a JSON object"};
    return call;
  }
  call.protocol = Protocol::kQuery;
  call.service = "sts";
  if (content_type.substr(0, content_type.find(';')) != "application/x-www-form-urlencoded") {
    return ApiError{"MissingAction", 400,
                    "a request without X-Amz-Target must be a form-encoded query (Action=...&Version=...)"};
  }
  auto params = parse_form(body);
  auto action = params.find("Action");
  if (action == params.end() || action->second.empty()) return ApiError{"MissingAction", 400, "no Action in the request"};
  auto version = params.find("Version");
  if (version == params.end() || version->second != kStsVersion) {
    return ApiError{"InvalidParameterValue", 400, fmt::format("Version must be {}", kStsVersion)};
  }
  call.operation = action->second;
  call.input = nlohmann::json::object();
  for (auto& [k, v] : params) {
    if (k != "Action" && k != "Version") call.input[k] = v;
  }
  return call;
}

HttpReply json_reply(const nlohmann::json& output, std::string_view request_id) {
  return HttpReply{200, "application/x-amz-json-1.1", output.dump(), {{"x-amzn-RequestId", std::string(request_id)}}};
}

HttpReply query_reply(std::string_view operation, std::string_view result_xml, std::string_view request_id) {
  std::string body = fmt::format(
      "<{0}Response xmlns=\"{1}\">\n  <{0}Result>{2}</{0}Result>\n  <ResponseMetadata><RequestId>{3}</RequestId>"
      "</ResponseMetadata>\n</{0}Response>\n",
      operation, kStsNamespace, result_xml, xml_escape(request_id));
  return HttpReply{200, "text/xml", std::move(body), {{"x-amzn-RequestId", std::string(request_id)}}};
}

HttpReply error_reply(Protocol protocol, const ApiError& error, std::string_view request_id) {
  HttpReply r;
  r.status = error.status;
  r.headers = {{"x-amzn-RequestId", std::string(request_id)}};
  if (protocol == Protocol::kJson11) {
    r.content_type = "application/x-amz-json-1.1";
    r.headers.emplace_back("x-amzn-ErrorType", error.code);
    r.body = nlohmann::json{{"__type", error.code}, {"message", error.message}}.dump();
  } else {
    r.content_type = "text/xml";
    r.body = fmt::format(
        "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n"
        "  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        kStsNamespace, error.status >= 500 ? "Receiver" : "Sender", xml_escape(error.code), xml_escape(error.message),
        xml_escape(request_id));
  }
  return r;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

bool is_read_only(std::string_view operation) {
  for (std::string_view prefix : {"Describe", "List", "Get", "Filter"}) {
    if (operation.size() > prefix.size() && operation.starts_with(prefix) && operation[prefix.size()] >= 'A' &&
        operation[prefix.size()] <= 'Z') {
      return true;
    }
  }
  return false;
}

}  // namespace sluice::serve
