/**
 * 003: delegation chaining (issue 4 item 1, RFC 8693). An access token issued by token exchange names
 * the token it was exchanged from (`parent_jti`), so revoking a token, a family or a consent revokes
 * everything derived from it (a recursive walk down `parent_jti`). A consent, and the authorization
 * transaction whose page showed it, keep the downstream tree the user approved with it: the hops
 * (application → resource, scopes) the consented resources' serving applications may take in turn.
 */
export const m003 = /* sql */ `
ALTER TABLE issued_tokens ADD COLUMN parent_jti TEXT;
CREATE INDEX issued_tokens_by_parent ON issued_tokens (parent_jti) WHERE parent_jti IS NOT NULL;

ALTER TABLE consents ADD COLUMN downstream TEXT NOT NULL DEFAULT '[]';
ALTER TABLE authorization_requests ADD COLUMN downstream TEXT NOT NULL DEFAULT '[]';
`;
