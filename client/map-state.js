// What one screen knows of the battle map, folded from the map's snapshot (get.php) and the live events.
// No DOM here. The server already filtered everything per viewer: a player's scene holds only what the fog
// and the DM let them see, so this code never hides anything itself.

import { Observable } from "./observable.js";

export class MapScene extends Observable {
  constructor(vtt, sessionId, role) {
    super((notify) => requestAnimationFrame(notify)); // one redraw a frame, however many events
    this.vtt = vtt;
    this.sessionId = sessionId;
    this.role = role;
    this.maps = new Map(); // map_id -> map (the DM: all; a player: the active one)
    this.map = null; // the map on screen
    this.tokens = new Map(); // token_id -> token as the server last said
    this.dragged = new Map(); // token_id -> {x, y}: someone else's drag in progress (ephemeral)
    this.revealed = new Set(); // "col,row"
    this.drawings = [];
    this.pings = []; // {x, y, at}
    this.head = 0; // the scene is current up to this event_id
    this.fogVersion = 0; // bumped on every fog change, so the view redraws the fog only then
    this._buffer = null; // events that arrive while a scene loads
  }

  /** The maps list, then the active map (the DM: the one already on screen, if it still exists).
   * `first.scene`: the active map's scene from the table's snapshot (or null: none is active), shown
   * without asking the server again; a player then needs nothing more, the DM still lists the maps. */
  async start(first = undefined) {
    if (first && this.role !== "dm") {
      if (first.scene) this.load(first.scene);
      else this.clear();
      return;
    }
    // Live events wait while the list is read (a replayed map_activated would load a map of its own).
    this._buffer = this._buffer || [];
    let data;
    try {
      data = await this.vtt.get("session/maps/list.php", { session_id: this.sessionId });
    } catch (error) {
      this._buffer = null;
      throw error;
    }
    this.maps = new Map(data.maps.map((map) => [map.map_id, map]));
    const keep = this.map && this.maps.has(this.map.map_id) ? this.map.map_id : null;
    const active = [...this.maps.values()].find((map) => map.is_active);
    const next = keep ?? (active ? active.map_id : null) ?? (this.maps.size ? [...this.maps.keys()][0] : null);
    if (next == null) {
      const buffered = this._buffer || [];
      this._buffer = null;
      this.clear();
      for (const [type, eventData, meta] of buffered) this.apply(type, eventData, meta);
    } else if (first && first.scene && first.scene.map_id === next) this.load(first.scene);
    else await this.show(next);
  }

  clear() {
    this.map = null;
    this.fogVersion++;
    this.tokens.clear();
    this.dragged.clear();
    this.revealed.clear();
    this.drawings = [];
    this.changed();
  }

  /** Load one map's whole scene; live events that arrive meanwhile are applied after it. */
  async show(mapId) {
    const load = (this._loads = (this._loads || 0) + 1);
    this._buffer = this._buffer || [];
    let scene;
    try {
      scene = await this.vtt.get("session/maps/get.php", { map_id: mapId });
    } catch (error) {
      if (load === this._loads) this._buffer = null;
      throw error;
    }
    if (load !== this._loads) return; // a later call shows another map (or the same, newer)
    this.load(scene);
  }

  /** Show a whole scene (get.php's, or the snapshot's with the fog in runs), then what arrived meanwhile. */
  load(scene) {
    this._loads = (this._loads || 0) + 1; // a get.php still under way would be older
    const { tokens, revealed_cells: cells, revealed_runs: runs, drawings, head_event_id: head, ...map } = scene;
    this.map = map;
    this.maps.set(map.map_id, map);
    this.tokens = new Map(tokens.map((token) => [token.token_id, token]));
    this.revealed = new Set();
    for (const [col, row] of cells || []) this.revealed.add(`${col},${row}`);
    for (const [row, first, last] of runs || []) for (let col = first; col <= last; col++) this.revealed.add(`${col},${row}`);
    this.fogVersion++;
    this.drawings = drawings;
    this.dragged.clear();
    this.head = head;
    const buffered = this._buffer || [];
    this._buffer = null;
    for (const [type, data, meta] of buffered) this.apply(type, data, meta);
    this.changed();
  }

  /** Fold one durable map event in (other events are ignored). */
  apply(type, data, meta) {
    if (!type.startsWith("map_")) return;
    if (this._buffer) return void this._buffer.push([type, data, meta]);
    if (meta && meta.event_id <= this.head) return; // already in the scene
    const here = (mapId) => this.map && this.map.map_id === mapId;
    switch (type) {
      case "map_refresh":
        this.maps.set(data.map.map_id, data.map);
        if (here(data.map.map_id)) this.map = { ...this.map, ...data.map };
        break;
      case "map_activated":
        for (const map of this.maps.values()) map.is_active = map.map_id === data.map_id;
        if (data.map) this.maps.set(data.map_id, data.map);
        if (this.role !== "dm") {
          if (data.map_id == null) this.clear();
          else this.show(data.map_id).catch(() => this.clear());
          return;
        }
        if (!this.map && data.map_id != null) this.show(data.map_id).catch(() => {});
        break;
      case "map_deleted":
        this.maps.delete(data.map_id);
        if (here(data.map_id)) this.clear();
        break;
      case "map_token_added":
      case "map_token_moved":
      case "map_token_changed":
        if (here(data.token.map_id)) {
          this.tokens.set(data.token.token_id, data.token);
          this.dragged.delete(data.token.token_id);
        }
        break;
      case "map_token_removed":
        this.tokens.delete(data.token_id);
        this.dragged.delete(data.token_id);
        break;
      case "map_fog_revealed":
        this.fogVersion++;
        if (here(data.map_id)) for (const [col, row] of data.cells) this.revealed.add(`${col},${row}`);
        break;
      case "map_fog_hidden":
        this.fogVersion++;
        if (here(data.map_id)) for (const [col, row] of data.cells) this.revealed.delete(`${col},${row}`);
        break;
      case "map_fog_reset":
        this.fogVersion++;
        if (here(data.map_id)) this.revealed.clear();
        break;
      case "map_drawing_added":
        if (here(data.drawing.map_id)) this.drawings.push(data.drawing);
        break;
      case "map_drawings_cleared":
        if (here(data.map_id)) this.drawings = [];
        break;
      default:
        return;
    }
    this.changed();
  }

  /** A drag or a ping from someone else (no event_id; the newest wins). */
  applyEphemeral(type, data) {
    if (!this.map || data.map_id !== this.map.map_id) return;
    if (type === "map_token_dragged" && this.tokens.has(data.token_id)) {
      this.dragged.set(data.token_id, { x: data.x_position, y: data.y_position });
    } else if (type === "map_ping") {
      this.addPing(data.x_position, data.y_position);
    } else return;
    this.changed();
  }

  addPing(x, y) {
    const ping = { x, y, at: performance.now() };
    this.pings.push(ping);
    setTimeout(() => {
      this.pings = this.pings.filter((item) => item !== ping);
      this.changed();
    }, 2000);
    this.changed();
  }

  /** Where to draw a token: someone's drag in progress, else the server's position. */
  position(token) {
    const drag = this.dragged.get(token.token_id);
    return drag ? drag : { x: token.x_position, y: token.y_position };
  }

  cellOf(x, y) {
    const map = this.map;
    return [Math.floor((x - map.grid_offset_x) / map.grid_size), Math.floor((y - map.grid_offset_y) / map.grid_size)];
  }
}
