-- Account self-service: password reset tokens, and invitation links that can be shown again.

-- One-time password reset links. Only the SHA-256 of a token is stored; a row is deleted when
-- it is used, when its user changes the password, or once it has expired.
CREATE TABLE password_resets (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- The invitation token sealed with the instance key (AES-256-GCM, bound to the invitation), so
-- an admin can copy a pending link again. token_hash stays the lookup; older rows have NULL.
ALTER TABLE invitations ADD COLUMN token_sealed TEXT;
