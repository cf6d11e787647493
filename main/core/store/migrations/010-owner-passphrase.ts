/**
 * 010: the owner passphrase (issue 12 §1). Proof that the owner is present is that they type it; only a slow
 * verifier (scrypt, its parameters beside it) is stored. Wrong attempts are counted here, so a restart does
 * not reset the back-off.
 */
export const m010 = /* sql */ `
CREATE TABLE owner_passphrase (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  verifier         BLOB NOT NULL,
  salt             BLOB NOT NULL,
  kdf_n            INTEGER NOT NULL,
  kdf_r            INTEGER NOT NULL,
  kdf_p            INTEGER NOT NULL,
  set_at           INTEGER NOT NULL,
  failed_attempts  INTEGER NOT NULL DEFAULT 0,
  last_failed_at   INTEGER,
  locked_until     INTEGER
) STRICT;
`;
