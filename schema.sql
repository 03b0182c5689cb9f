-- BECMI VTT schema. Applied at every start-up; every statement is idempotent.
-- Written for SQLite and PostgreSQL alike: times are TEXT ('YYYY-MM-DD HH:MM:SS', UTC) or INTEGER epoch
-- seconds, flags are INTEGER 0/1, JSON is TEXT. On PostgreSQL the server replaces
-- "INTEGER PRIMARY KEY AUTOINCREMENT" with an identity column; nothing else differs.

CREATE TABLE IF NOT EXISTS server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_moderator INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users (lower(username));
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));

-- Server-side login sessions. Only an HMAC of the cookie token is stored.
CREATE TABLE IF NOT EXISTS login_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_sessions_user ON login_sessions (user_id);

CREATE TABLE IF NOT EXISTS login_attempts (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key TEXT NOT NULL,
    attempted_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_client ON login_attempts (client_key, attempted_at);

CREATE TABLE IF NOT EXISTS game_sessions (
    session_id INTEGER PRIMARY KEY AUTOINCREMENT,
    dm_user_id INTEGER NOT NULL REFERENCES users (user_id),
    session_title TEXT NOT NULL,
    session_description TEXT,
    session_datetime TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    max_players INTEGER NOT NULL,
    campaign_id INTEGER,
    meet_link TEXT,
    status TEXT NOT NULL DEFAULT 'scheduled',
    -- The last event_id handed out in this game session: the gapless per-session sequence.
    event_head INTEGER NOT NULL DEFAULT 0,
    audio_state TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS game_sessions_dm ON game_sessions (dm_user_id);

CREATE TABLE IF NOT EXISTS session_players (
    session_id INTEGER NOT NULL REFERENCES game_sessions (session_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (user_id),
    status TEXT NOT NULL,
    invited_at TEXT NOT NULL,
    responded_at TEXT,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX IF NOT EXISTS session_players_user ON session_players (user_id);

CREATE TABLE IF NOT EXISTS characters (
    character_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (user_id),
    session_id INTEGER REFERENCES game_sessions (session_id),
    character_name TEXT NOT NULL,
    class TEXT NOT NULL,
    alignment TEXT NOT NULL,
    level INTEGER NOT NULL DEFAULT 1,
    experience_points INTEGER NOT NULL DEFAULT 0,
    current_hp INTEGER NOT NULL,
    max_hp INTEGER NOT NULL,
    strength INTEGER NOT NULL,
    dexterity INTEGER NOT NULL,
    constitution INTEGER NOT NULL,
    intelligence INTEGER NOT NULL,
    wisdom INTEGER NOT NULL,
    charisma INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS characters_user ON characters (user_id);
CREATE INDEX IF NOT EXISTS characters_session ON characters (session_id);

-- The durable event log. event_id is gapless per game session and allocated from
-- game_sessions.event_head inside the transaction of the change it describes.
-- audience: 'session' (everyone; players get player_data when it is set), 'dm', or 'user'
-- (audience_user_id only).
CREATE TABLE IF NOT EXISTS session_events (
    session_id INTEGER NOT NULL REFERENCES game_sessions (session_id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    event_data TEXT NOT NULL,
    player_data TEXT,
    audience TEXT NOT NULL,
    audience_user_id INTEGER,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, event_id)
);
