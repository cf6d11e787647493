/**
 * 007: Cedar policies (issue 5 item 1). The admin's policies, one row per policy, never deleted: removing one
 * sets `removed_version`, so every version of the policy set can be rebuilt (`version` counts changes).
 * `client_id` marks a policy written by `app update --allow-impersonation` (the permit impersonation now
 * needs); existing permissions (`applications.allow_impersonation`) become such policies here.
 */
export const m007 = /* sql */ `
CREATE TABLE policies (
  id               TEXT PRIMARY KEY,
  text             TEXT NOT NULL,
  description      TEXT,
  added_version    INTEGER NOT NULL,
  removed_version  INTEGER,
  client_id        TEXT,
  created_at       INTEGER NOT NULL,
  removed_at       INTEGER
);
CREATE INDEX policies_active ON policies (removed_version) WHERE removed_version IS NULL;

INSERT INTO policies (id, text, description, added_version, client_id, created_at)
SELECT 'pol_impersonation_' || client_id,
       'permit (principal == Application::"' || client_id || '", action == Action::"impersonation", resource);',
       'impersonation permitted for ' || client_id || ' (migrated from allow_impersonation)',
       1, client_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM applications WHERE allow_impersonation = 1;
`;
