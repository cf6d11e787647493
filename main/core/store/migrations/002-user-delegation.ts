/**
 * 002: user delegation (issue 3). UI sessions and their one-time login links, authorization
 * transactions waiting for the user's decision, consents, authorization codes, token families (what a
 * redeemed code starts and its refresh tokens continue) and refresh tokens. Every secret here (login link,
 * session id, CSRF token, code, refresh token) is stored only as its SHA-256 hash.
 */
export const m002 = /* sql */ `
CREATE TABLE login_links (
  link_hash   BLOB PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;

CREATE TABLE ui_sessions (
  id_hash     BLOB PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  ended_at    INTEGER
) STRICT;

-- A validated authorization request shown to the user, bound to the session that saw it; the CSRF
-- token of its consent form is single use (used_at).
CREATE TABLE authorization_requests (
  id                  TEXT PRIMARY KEY,
  csrf_hash           BLOB NOT NULL,
  session_hash        BLOB NOT NULL,
  user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id           TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  redirect_uri        TEXT NOT NULL,
  redirect_uri_given  INTEGER NOT NULL,
  state               TEXT,
  nonce               TEXT,
  code_challenge      TEXT NOT NULL,
  scopes              TEXT NOT NULL,
  resources           TEXT NOT NULL,
  auth_time           INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  used_at             INTEGER
) STRICT;

-- What an application may do for a user: the resources and scopes the user approved. remembered = 1
-- spares the next prompt for the same or a smaller request (never for dynamically registered clients).
CREATE TABLE consents (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  resources   TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  remembered  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;
CREATE INDEX consents_by_user_client ON consents (user_id, client_id);

CREATE TABLE authorization_codes (
  code_hash           BLOB PRIMARY KEY,
  client_id           TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  consent_id          TEXT NOT NULL REFERENCES consents (id) ON DELETE CASCADE,
  redirect_uri        TEXT NOT NULL,
  redirect_uri_given  INTEGER NOT NULL,
  code_challenge      TEXT NOT NULL,
  scopes              TEXT NOT NULL,
  resources           TEXT NOT NULL,
  nonce               TEXT,
  auth_time           INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  redeemed_at         INTEGER,
  family_id           TEXT
) STRICT;

-- One per redeemed code: the family its refresh tokens and access tokens belong to (OAuth 2.1 §4.3.1: a
-- rotated refresh token presented again revokes it all).
CREATE TABLE token_families (
  id          TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  consent_id  TEXT NOT NULL REFERENCES consents (id) ON DELETE CASCADE,
  scopes      TEXT NOT NULL,
  resources   TEXT NOT NULL,
  auth_time   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  revoked_why TEXT
) STRICT;
CREATE INDEX token_families_by_consent ON token_families (consent_id);

CREATE TABLE refresh_tokens (
  token_hash  BLOB PRIMARY KEY,
  family_id   TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  rotated_at  INTEGER
) STRICT;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

-- Access tokens issued in a family are revoked with it.
ALTER TABLE issued_tokens ADD COLUMN family_id TEXT;
CREATE INDEX issued_tokens_by_family ON issued_tokens (family_id) WHERE family_id IS NOT NULL;
`;
