/**
 * 005: impersonation (issue 4 item 2). An application may act for a user in the background only when the
 * admin permitted it (`applications.allow_impersonation`, off by default) and the user gave it a
 * background-access grant: a consent marked `background`, which the authorization endpoint never uses
 * (it is not a remembered interactive approval) and which backs one token family of its own, so that
 * withdrawing it revokes every token issued under it, and every token exchanged from those.
 */
export const m005 = /* sql */ `
ALTER TABLE applications ADD COLUMN allow_impersonation INTEGER NOT NULL DEFAULT 0 CHECK (allow_impersonation IN (0, 1));
ALTER TABLE consents ADD COLUMN background INTEGER NOT NULL DEFAULT 0 CHECK (background IN (0, 1));
`;
