// What one screen knows about the table, folded from API snapshots and live events. No DOM here.
// Every merge is idempotent, so a snapshot and the replayed events that led to it can meet in any order.

import { Observable } from "./observable.js";

const LOG_SIZE = 30;

export class TableState extends Observable {
  constructor() {
    super((notify) => queueMicrotask(notify)); // a burst of events (a replay, a bulk spawn): one render
    this.session = null;
    this.characters = new Map(); // character_id -> character
    this.monsters = new Map(); // instance_id -> monster instance (players: name and condition only)
    this.initiative = { initiatives: [], round_number: 0 };
    this.players = new Map(); // user_id -> username, kept after they leave so old log lines keep names
    this.seats = new Map(); // user_id -> "accepted" | "invited" (invitations: the DM's events only)
    this.online = [];
    this.log = [];
  }

  mergeCharacter(data) {
    if (!data || data.character_id == null) return;
    const current = this.characters.get(data.character_id) || {};
    const next = { ...current };
    for (const [key, value] of Object.entries(data)) if (value !== undefined) next[key] = value;
    if (next.current_hp != null && data.is_dead === undefined) next.is_dead = next.current_hp <= 0;
    this.characters.set(data.character_id, next);
    this.changed();
  }

  mergeMonster(data) {
    if (!data || data.instance_id == null) return;
    const current = this.monsters.get(data.instance_id) || {};
    const next = { ...current, ...data };
    // The DM's events carry numbers only: keep the condition word in step with them.
    if (data.current_hp != null && next.max_hp != null && data.condition === undefined) {
      next.condition = condition(next.current_hp, next.max_hp);
    }
    this.monsters.set(data.instance_id, next);
    this.changed();
  }

  removeMonster(instanceId) {
    if (this.monsters.delete(instanceId)) this.changed();
  }

  setInitiative(data) {
    if (!data) return;
    const list = Array.isArray(data) ? data : data.initiatives || [];
    this.initiative = {
      initiatives: list,
      round_number: Array.isArray(data) ? this.initiative.round_number : data.round_number ?? 0,
    };
    this.changed();
  }

  setOnline(users) {
    this.online = users || [];
    this.changed();
  }

  /** Fold one game event in. */
  apply(type, data, meta) {
    switch (type) {
      case "character_created":
      case "character_hp_updated":
      case "character_updated":
        this.mergeCharacter(data);
        break;
      case "character_xp_updated":
        this._mergeXp(data);
        break;
      case "initiative_updated":
        this.setInitiative(data);
        break;
      case "player_removed":
        for (const id of data.character_ids || []) this.characters.delete(id);
        this.seats.delete(data.user_id);
        this.changed();
        break;
      case "player_invited":
      case "player_joined":
        this.players.set(data.user_id, data.username);
        this.seats.set(data.user_id, type === "player_joined" ? "accepted" : "invited");
        this.changed();
        break;
      case "session_status_changed":
        if (this.session) this.session = { ...this.session, status: data.status };
        this.changed();
        break;
      case "monster_hp_updated":
        this.mergeMonster(data);
        break;
      default:
        this._applyMonsterEvent(type, data);
    }
    const line = describe(type, data);
    if (line) this._addLog(line, meta);
  }

  _mergeXp(data) {
    const items = Array.isArray(data.characters) ? data.characters : [data];
    for (const item of items) {
      const xp = item.experience_points ?? item.new_xp ?? item.xp ?? item.total_xp;
      this.mergeCharacter({
        character_id: item.character_id,
        character_name: item.character_name,
        experience_points: xp,
        level: item.level ?? item.new_level,
      });
    }
  }

  _applyMonsterEvent(type, data) {
    if (!type.startsWith("monster")) return;
    if (/remov|delet/.test(type)) {
      for (const id of [data.instance_id, ...(data.instance_ids || [])]) if (id != null) this.removeMonster(id);
      return;
    }
    for (const instance of data.instances || []) this.mergeMonster(instance);
    if (data.instance_id != null) this.mergeMonster(data);
  }

  _addLog(text, meta) {
    this.log.unshift({ id: meta ? meta.event_id : `${Date.now()}-${Math.random()}`, text, at: meta && meta.created_at });
    this.log.length = Math.min(this.log.length, LOG_SIZE);
    this.changed();
  }

  /** Whose turn it is, or null. */
  currentTurn() {
    return this.initiative.initiatives.find((entry) => truthy(entry.is_current_turn)) || null;
  }

  charactersSorted() {
    return [...this.characters.values()].sort((a, b) => a.character_id - b.character_id);
  }

  monstersSorted() {
    return [...this.monsters.values()].sort((a, b) => a.instance_id - b.instance_id);
  }
}

export function truthy(value) {
  return value === true || value === 1 || value === "1";
}

/** One line of the table log for a game event, or null for events the log does not show. */
export function describe(type, data) {
  const who = data.character_name || data.instance_name || data.entity_name || "Someone";
  switch (type) {
    case "character_hp_updated": {
      const delta = (data.current_hp ?? 0) - (data.old_hp ?? data.current_hp ?? 0);
      const change = delta < 0 ? `takes ${-delta} damage` : delta > 0 ? `heals ${delta}` : "is unchanged";
      return `${who} ${change} (${data.current_hp}/${data.max_hp} HP)${truthy(data.is_dead) ? " — down!" : ""}`;
    }
    case "character_created":
      return `${who} the ${labelClass(data.class).toLowerCase()} joins the party`;
    case "character_xp_updated":
      return Array.isArray(data.characters)
        ? `XP awarded to ${data.characters.map((c) => c.character_name).join(", ")}`
        : xpLine(who, data);
    case "monster_hp_updated":
      return data.condition ? `${who} looks ${data.condition}` : `${who}: ${data.current_hp}/${data.max_hp} HP`;
    case "initiative_updated": {
      const entry = (data.initiatives || []).find((item) => truthy(item.is_current_turn));
      return entry ? `Round ${data.round_number}: ${entry.entity_name}'s turn` : "Initiative changed";
    }
    case "player_joined":
      return `${data.username} joined the table`;
    case "player_removed":
      return `${data.username} left the table`;
    case "monster_removed":
      return `${who} is removed from the table`;
    case "monster_spawned":
      return `${(data.instances || []).map((m) => m.instance_name).join(", ")} ${data.count === 1 ? "appears" : "appear"}!`;
    case "session_status_changed":
      return `The session is now ${data.status}`;
    case "audio_control":
      return `Music: ${data.status}${data.track_name ? ` — ${data.track_name}` : ""}`;
    default:
      return null;
  }
}

/** "Aldric gains 150 XP (the goblin cave) and reaches level 2": the amount, the reason, the level. */
function xpLine(who, data) {
  const gained = data.experience_points != null && data.old_xp != null ? `${data.experience_points - data.old_xp} XP` : "experience";
  const reason = data.reason ? ` (${data.reason})` : "";
  const level = truthy(data.levelled_up) ? ` and reaches level ${data.level}` : "";
  return `${who} gains ${gained}${reason}${level}`;
}

/** A class or an alignment as the rules books print it: "Fighter", "Magic-user", "Lawful". */
export function labelClass(value) {
  const text = { magic_user: "magic-user" }[value] || value || "";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The server's wording (server/monster_instances.py `condition`). */
function condition(current, max) {
  if (current <= 0) return "dead";
  if (current >= max) return "unhurt";
  return current * 2 >= max ? "wounded" : "badly wounded";
}
