// Issued sessions as SQL on the sessions table.
#include "serve/sessions.hpp"

#include <fmt/core.h>

#include "core/error.hpp"
#include "serve/tags_json.hpp"

namespace sluice::serve {

void Sessions::insert(const IssuedSession& session) {
  db_.write([&](const Connection& conn) {
    Statement exists = conn.prepare("SELECT 1 FROM sessions WHERE access_key_id = ?");
    exists.bind_text(1, session.access_key_id);
    if (exists.step()) {
      throw Error(ErrorKind::kConflict, fmt::format("access key id {} was already issued", session.access_key_id));
    }
    Statement s = conn.prepare(
        "INSERT INTO sessions (access_key_id, secret_access_key, session_token, role_arn, session_name, tags, "
        "transitive_tag_keys, parent_arn, source_identity, expiration) VALUES (?,?,?,?,?,?,?,?,?,?)");
    s.bind_text(1, session.access_key_id)
        .bind_text(2, session.secret_access_key)
        .bind_text(3, session.session_token)
        .bind_text(4, session.role_arn)
        .bind_text(5, session.session_name)
        .bind_text(6, tags_to_json(session.tags))
        .bind_text(7, keys_to_json(session.transitive_tag_keys))
        .bind_text(8, session.parent_arn)
        .bind_text(9, session.source_identity)
        .bind_real(10, session.expiration);
    s.run();
  });
}

std::optional<IssuedSession> Sessions::find(std::string_view access_key_id) const {
  return db_.read([&](const Connection& conn) -> std::optional<IssuedSession> {
    Statement s = conn.prepare(
        "SELECT access_key_id, secret_access_key, session_token, role_arn, session_name, tags, transitive_tag_keys, "
        "parent_arn, source_identity, expiration FROM sessions WHERE access_key_id = ?");
    s.bind_text(1, access_key_id);
    if (!s.step()) return std::nullopt;
    std::string what = fmt::format("state database {}: session of access key id {}", db_.file().string(), s.text(0));
    return IssuedSession{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4),
                         tags_from_json(s.text(5), what), keys_from_json(s.text(6), what),
                         s.text(7), s.text(8), s.real(9)};
  });
}

std::size_t Sessions::delete_expired(double now) {
  return db_.write([&](const Connection& conn) {
    conn.prepare("DELETE FROM sessions WHERE expiration <= ?").bind_real(1, now).run();
    return static_cast<std::size_t>(conn.changes());
  });
}

}  // namespace sluice::serve
