/**
 * 008: brokered access to external OAuth providers (issue 5 item 4).
 * - `providers`: an upstream OAuth 2.0 / OIDC server, by issuer (discovery) or explicit endpoints. Its client
 *   secret is the vault item `provider-client-secret:<id>`, never a column.
 * - `provider_accounts`: a user's connected account with a provider. The upstream refresh and access tokens
 *   are vault items (`provider-refresh-token:<id>:<user>`, `provider-access-token:<id>:<user>`); here only
 *   when the access token expires, and whether the account needs the user's attention (revoked upstream).
 * - `provider_connections`: a connect in progress (authorization code + PKCE upstream). `state` is stored
 *   hashed, single use, ten minutes; the PKCE verifier is a vault item (`provider-pkce:<id>`). `return_to`
 *   is where the browser goes afterwards (only this broker's authorization endpoint); `session_hash` binds
 *   a connect started from the consent page to that browser's UI session.
 * - `resources.provider_id` and `resources.upstream_scopes` (JSON): a brokered resource's provider and the
 *   upstream scopes it needs.
 */
export const m008 = /* sql */ `
CREATE TABLE providers (
  id                      TEXT PRIMARY KEY,
  name                    TEXT NOT NULL,
  issuer                  TEXT,
  authorization_endpoint  TEXT,
  token_endpoint          TEXT,
  revocation_endpoint     TEXT,
  client_id               TEXT NOT NULL,
  scopes                  TEXT NOT NULL DEFAULT '[]',
  created_at              INTEGER NOT NULL,
  CHECK (issuer IS NOT NULL OR (authorization_endpoint IS NOT NULL AND token_endpoint IS NOT NULL))
) STRICT;

CREATE TABLE provider_accounts (
  provider_id   TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status        TEXT NOT NULL CHECK (status IN ('connected', 'needs_attention')),
  attention     TEXT,
  expires_at    INTEGER,
  connected_at  INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (provider_id, user_id)
) STRICT;

CREATE TABLE provider_connections (
  id            TEXT PRIMARY KEY,
  state_hash    BLOB NOT NULL UNIQUE,
  provider_id   TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_hash  BLOB,
  return_to     TEXT,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  used_at       INTEGER
) STRICT;

ALTER TABLE resources ADD COLUMN provider_id TEXT REFERENCES providers (id);
ALTER TABLE resources ADD COLUMN upstream_scopes TEXT NOT NULL DEFAULT '[]';
`;
