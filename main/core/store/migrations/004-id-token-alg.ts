/**
 * 004: the algorithm a client registered for its ID tokens (OIDC Dynamic Client Registration §2,
 * `id_token_signed_response_alg`). RS256 is OIDC's default; ES256 is the other one Latchkey signs with.
 */
export const m004 = /* sql */ `
ALTER TABLE applications ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256'));
`;
