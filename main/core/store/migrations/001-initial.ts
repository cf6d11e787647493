/** 001: the directory, the vault, signing keys, issued tokens, replay protection and the audit log. */
export const m001 = /* sql */ `
CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  is_owner    INTEGER NOT NULL DEFAULT 0,
  enabled     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE applications (
  client_id             TEXT PRIMARY KEY,
  name                  TEXT NOT NULL,
  identity_type         TEXT NOT NULL CHECK (identity_type IN ('agent', 'service', 'application', 'mcp_server')),
  sub_type              TEXT,
  client_type           TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
  auth_method           TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
  jwks                  TEXT,
  grant_types           TEXT NOT NULL,
  scopes                TEXT,
  redirect_uris         TEXT NOT NULL DEFAULT '[]',
  consent_mode          TEXT NOT NULL DEFAULT 'explicit' CHECK (consent_mode IN ('explicit', 'implicit')),
  registration          TEXT NOT NULL DEFAULT 'admin' CHECK (registration IN ('admin', 'dynamic')),
  max_delegation_depth  INTEGER NOT NULL DEFAULT 3,
  enabled               INTEGER NOT NULL DEFAULT 1,
  created_at            INTEGER NOT NULL
) STRICT;

CREATE TABLE client_secrets (
  id           TEXT PRIMARY KEY,
  client_id    TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  secret_hash  BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER
) STRICT;
CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

CREATE TABLE resources (
  identifier       TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  scopes           TEXT NOT NULL DEFAULT '[]',
  credential_type  TEXT NOT NULL DEFAULT 'token' CHECK (credential_type IN ('token', 'vaulted', 'brokered')),
  token_lifetime   INTEGER NOT NULL DEFAULT 600,
  served_by        TEXT REFERENCES applications (client_id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE application_dependencies (
  client_id  TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  resource   TEXT NOT NULL REFERENCES resources (identifier) ON DELETE CASCADE,
  PRIMARY KEY (client_id, resource)
) STRICT, WITHOUT ROWID;

CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  key_hash    BLOB NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;

CREATE TABLE issued_tokens (
  jti         TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL,
  subject     TEXT NOT NULL,
  user_id     TEXT,
  audience    TEXT NOT NULL,
  scope       TEXT NOT NULL DEFAULT '',
  grant_type  TEXT NOT NULL,
  issued_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;
CREATE INDEX issued_tokens_by_expiry ON issued_tokens (expires_at);

-- jti values of client assertions and JWT bearer grants seen until they expire (RFC 7523 §3 item 7).
CREATE TABLE used_assertions (
  issuer      TEXT NOT NULL,
  jti         TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (issuer, jti)
) STRICT, WITHOUT ROWID;

CREATE TABLE vault_meta (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  vault_id     TEXT NOT NULL,
  backend      TEXT NOT NULL CHECK (backend IN ('keychain', 'passphrase')),
  key_id       TEXT NOT NULL,
  kdf          TEXT,
  wrapped_key  BLOB,
  check_value  BLOB NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_items (
  id          TEXT PRIMARY KEY,
  key_id      TEXT NOT NULL,
  sealed      BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
  kid            TEXT PRIMARY KEY,
  alg            TEXT NOT NULL,
  purpose        TEXT NOT NULL CHECK (purpose IN ('access_token', 'id_token')),
  public_jwk     TEXT NOT NULL,
  vault_item     TEXT NOT NULL REFERENCES vault_items (id),
  created_at     INTEGER NOT NULL,
  retired_at     INTEGER,
  publish_until  INTEGER
) STRICT;

CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  event       TEXT NOT NULL,
  decision    TEXT NOT NULL CHECK (decision IN ('allow', 'deny', 'info')),
  client_id   TEXT,
  subject     TEXT,
  resource    TEXT,
  grant_type  TEXT,
  reason      TEXT,
  jti         TEXT,
  detail      TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_client ON audit_log (client_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;
