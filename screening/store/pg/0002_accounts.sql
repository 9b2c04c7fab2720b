-- Version 2: who may use the store through `screening serve` (the SQLite store's schema 5,
-- screening/store/_ddl.py SCHEMA_V5, where each choice is explained): accounts (staff, never
-- clients), API tokens and browser sessions kept only as the SHA-256 of their secret, and
-- the team each case belongs to (deleted with the case: it has an assessment_id column).

CREATE TABLE accounts (
    name           text COLLATE "C" PRIMARY KEY,
    role           text NOT NULL CHECK (role IN ('caseworker', 'team_lead', 'auditor', 'admin', 'system')),
    team           text COLLATE "C",
    password_hash  text,
    scopes         text NOT NULL DEFAULT '',
    disabled       integer NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     text NOT NULL,
    updated_at     text NOT NULL
);
CREATE TABLE api_tokens (
    id             text COLLATE "C" PRIMARY KEY,
    account        text COLLATE "C" NOT NULL REFERENCES accounts (name),
    token_sha256   bytea NOT NULL UNIQUE,
    scopes         text NOT NULL,
    created_at     text NOT NULL,
    revoked_at     text
);
CREATE TABLE sessions (
    id_sha256      bytea PRIMARY KEY,
    account        text COLLATE "C" NOT NULL REFERENCES accounts (name),
    csrf           text NOT NULL,
    created_at     text NOT NULL,
    expires_at     text NOT NULL
);
CREATE TABLE case_teams (
    assessment_id  text COLLATE "C" PRIMARY KEY REFERENCES assessments (id),
    team           text COLLATE "C" NOT NULL
);
CREATE INDEX case_teams_by_team ON case_teams (team);
