// The temporary credentials Sluice's STS endpoint issued (AssumeRole), kept in the state database so
// that a request signed with them is verified after a restart too. Records hold the secret access
// key and the session token: they are never printed, and no Error made here contains them.
// Thread-safe (through StateDb); several processes may share the file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/session_tags.hpp"
#include "serve/state_db.hpp"

namespace sluice::serve {

struct IssuedSession {
  std::string access_key_id;  // unique
  std::string secret_access_key;
  std::string session_token;
  std::string role_arn;      // the role assumed
  std::string session_name;  // RoleSessionName
  std::vector<policy::SessionTag> tags;          // the session's tags (given and inherited)
  std::vector<std::string> transitive_tag_keys;  // passed on when this session assumes a role
  std::string parent_arn;       // the caller who assumed the role (an IAM user or another session)
  std::string source_identity;  // SourceIdentity, "" when none was set
  double expiration = 0;        // seconds since the epoch
  bool operator==(const IssuedSession&) const = default;
};

class Sessions {
 public:
  explicit Sessions(StateDb& db) : db_(db) {}

  // Adds a session. Throws Error(kConflict) when its access key id was issued before (the message
  // has the key id, never the secret).
  void insert(const IssuedSession& session);

  // The session of that access key id, expired or not (the caller tells an expired token from an
  // unknown key), or nothing.
  std::optional<IssuedSession> find(std::string_view access_key_id) const;

  // Removes the sessions whose expiration is at or before `now`; returns how many.
  std::size_t delete_expired(double now);

 private:
  StateDb& db_;
};

}  // namespace sluice::serve
