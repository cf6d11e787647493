/**
 * 009: first-run sign-in (issue 6 item 2). On a fresh install there is no owner yet, so `npm start` (and
 * `latchkey login-url`) hand out a login link that belongs to no user; its session may then make the
 * owner (first-run setup), which binds the session to it. `user_id` becomes nullable for links and
 * sessions. Both tables hold only short-lived rows, so they are made anew rather than copied: whoever was
 * signed in signs in again after this upgrade.
 */
export const m009 = /* sql */ `
DROP TABLE login_links;
DROP TABLE ui_sessions;

CREATE TABLE login_links (
  link_hash   BLOB PRIMARY KEY,
  user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;

CREATE TABLE ui_sessions (
  id_hash     BLOB PRIMARY KEY,
  user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  ended_at    INTEGER
) STRICT;
`;
