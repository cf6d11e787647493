/**
 * 006: approvals for agents without a browser (issue 5 item 2, OpenID CIBA in poll mode). A backchannel
 * authentication request waits here for the user's answer. Its `auth_req_id` is a bearer secret for the
 * client that asked: stored only as its SHA-256 hash. The row moves pending → approved | denied, and an
 * approved one → redeemed when its tokens are issued (single use). `interval` grows by 5 s each time the
 * client polls too fast (CIBA §11, slow_down). `downstream` is the tree the approval covers (issue 4 item 1),
 * fixed when the request was made, as on the consent page. `consents.remembered_until`: an
 * approval the user chose to remember for a while.
 */
export const m006 = /* sql */ `
CREATE TABLE backchannel_requests (
  id               TEXT PRIMARY KEY,
  auth_req_hash    BLOB NOT NULL UNIQUE,
  client_id        TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scopes           TEXT NOT NULL,
  resources        TEXT NOT NULL,
  downstream       TEXT NOT NULL DEFAULT '[]',
  binding_message  TEXT,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  interval_s       INTEGER NOT NULL,
  last_polled_at   INTEGER,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  decided_at       INTEGER,
  consent_id       TEXT REFERENCES consents (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX backchannel_requests_pending ON backchannel_requests (status, expires_at);

-- An approval remembered for a chosen time: until then it answers the same request without asking again.
-- NULL with remembered = 1 is remembered until withdrawn (the consent page's "remember").
ALTER TABLE consents ADD COLUMN remembered_until INTEGER;
`;
