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
    -- Initiative tracker: the round counter (0 = no combat running).
    round_number INTEGER NOT NULL DEFAULT 0,
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

-- The bestiary: monster templates, seeded from server/data/monsters.json.
CREATE TABLE IF NOT EXISTS monsters (
    monster_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    armor_class INTEGER NOT NULL,
    hit_dice TEXT NOT NULL,
    move TEXT NOT NULL,
    attacks TEXT NOT NULL,
    damage TEXT NOT NULL,
    morale INTEGER NOT NULL,
    save_as TEXT NOT NULL,
    alignment TEXT NOT NULL,
    xp INTEGER NOT NULL,
    treasure_type TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS monsters_name_key ON monsters (lower(name));

-- Monsters on the table in one game session. equipment, treasure, spells and notes are the DM's alone.
CREATE TABLE IF NOT EXISTS monster_instances (
    instance_id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES game_sessions (session_id) ON DELETE CASCADE,
    monster_id INTEGER NOT NULL REFERENCES monsters (monster_id),
    instance_name TEXT NOT NULL,
    is_named_boss INTEGER NOT NULL DEFAULT 0,
    current_hp INTEGER NOT NULL,
    max_hp INTEGER NOT NULL,
    armor_class INTEGER NOT NULL,
    dexterity INTEGER,
    equipment TEXT NOT NULL DEFAULT '{}',
    treasure TEXT NOT NULL DEFAULT '{}',
    spells TEXT NOT NULL DEFAULT '{}',
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS monster_instances_session ON monster_instances (session_id);

-- The initiative tracker of a game session: one row per combatant.
CREATE TABLE IF NOT EXISTS initiative_entries (
    initiative_id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES game_sessions (session_id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL,
    character_id INTEGER REFERENCES characters (character_id) ON DELETE CASCADE,
    monster_instance_id INTEGER REFERENCES monster_instances (instance_id) ON DELETE CASCADE,
    initiative_roll INTEGER,
    is_current_turn INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS initiative_entries_session ON initiative_entries (session_id);

-- The equipment list, seeded from server/data/equipment.json.
CREATE TABLE IF NOT EXISTS items (
    item_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    item_type TEXT NOT NULL,
    cost_gp REAL NOT NULL,
    weight_cn INTEGER NOT NULL,
    damage_die TEXT,
    damage_type TEXT,
    armor_class INTEGER,
    description TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_name_key ON items (lower(name));

-- Images uploaded for forum posts; the file lives in UPLOAD_DIR under stored_name.
CREATE TABLE IF NOT EXISTS forum_images (
    image_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (user_id),
    post_id INTEGER,
    stored_name TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
