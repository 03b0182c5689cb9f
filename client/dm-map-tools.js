// The DM's battle-map tools (players never download this module): upload a map, pick the map on screen,
// show it to the players, place tokens (characters, monsters, markers; visible or hidden), hide or show
// and remove the selected token, reveal or cover the whole map, clear the drawings, set the grid (square
// size and offset), rename or delete the map.

import { h, field, setText, busy, announce, onSubmit } from "./ui.js";

export function dmMapTools(context) {
  const { vtt, state, sessionId } = context;
  let view = null;
  const mapSelect = h("select", { name: "map_id" });
  const activate = h("button", { type: "button" }, "Show to players");
  const source = h("select", { name: "source" });
  const hidden = h("input", { type: "checkbox", name: "hidden" });
  const place = h("button", { type: "button" }, "Place token");
  const selectedLine = h("p", { class: "selected-token", "aria-live": "polite" });
  const toggle = h("button", { type: "button" }, "Hide from players");
  const remove = h("button", { type: "button", class: "danger" }, "Remove token");
  const gridSize = h("input", { type: "number", min: 10, max: 1000, name: "grid_size", class: "amount" });
  const offsetX = h("input", { type: "number", min: 0, max: 999, name: "grid_offset_x", class: "amount" });
  const offsetY = h("input", { type: "number", min: 0, max: 999, name: "grid_offset_y", class: "amount" });
  const mapName = h("input", { name: "map_name", maxlength: 100, "aria-label": "Rename the map to" });

  const upload = h("form", { class: "map-upload" },
    field("Map image", h("input", { type: "file", name: "image", accept: "image/png,image/jpeg,image/webp", required: true })),
    field("Map name", h("input", { name: "map_name", maxlength: 100, required: true, value: "Map" })),
    h("button", { type: "submit", class: "primary" }, "Upload map"));
  onSubmit(upload, (form) => uploadMap(vtt, sessionId, form), async (map) => {
    announce(`Uploaded ${map.map_name} (${map.width} × ${map.height})`);
    upload.reset();
    await view.scene.show(map.map_id);
  });

  mapSelect.addEventListener("change", () => busy(mapSelect, () => view.scene.show(Number(mapSelect.value))));
  const current = () => view.scene.map;
  activate.addEventListener("click", () => busy(activate, () =>
    vtt.request("PUT", "session/maps/update.php", { body: { map_id: current().map_id, is_active: true } })));
  place.addEventListener("click", () => busy(place, () => placeToken(vtt, view, source.value, hidden.checked)));
  const selected = () => (view.selected != null ? view.scene.tokens.get(view.selected) : null);
  toggle.addEventListener("click", () => busy(toggle, () =>
    vtt.request("PUT", "session/maps/tokens/update.php", { body: { token_id: selected().token_id, hidden: !selected().hidden } })));
  remove.addEventListener("click", () => busy(remove, async () => {
    await vtt.request("DELETE", "session/maps/tokens/delete.php", { body: { token_id: selected().token_id } });
    view.selected = null;
  }));
  const mapAction = (label, action) => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", () => busy(button, () => action(current())));
    return button;
  };
  const revealAll = mapAction("Reveal all", (map) => vtt.post("session/maps/fog/reveal.php", { map_id: map.map_id, cells: allCells(map) }));
  const coverAll = mapAction("Cover all", (map) => vtt.post("session/maps/fog/reset.php", { map_id: map.map_id }));
  const clearDrawings = mapAction("Clear drawings", (map) => vtt.post("session/maps/drawings/clear.php", { map_id: map.map_id }));
  const update = (map, fields) => vtt.request("PUT", "session/maps/update.php", { body: { map_id: map.map_id, ...fields } });
  const applyGrid = mapAction("Set grid", (map) => update(map, {
    grid_size: Number(gridSize.value), grid_offset_x: Number(offsetX.value) || 0, grid_offset_y: Number(offsetY.value) || 0,
  }));
  const rename = mapAction("Rename", (map) => update(map, { map_name: mapName.value.trim() }));
  const deleteMap = h("button", { type: "button", class: "ghost danger" }, "Delete map");
  deleteMap.addEventListener("click", () => {
    const map = current();
    if (!window.confirm(`Delete ${map.map_name} with its tokens, fog and drawings?`)) return;
    busy(deleteMap, async () => {
      await vtt.request("DELETE", "session/maps/delete.php", { body: { map_id: map.map_id } });
      announce(`Deleted ${map.map_name}`);
      view.scene.maps.delete(map.map_id);
      await view.reload(); // the active map, else another, else none
    });
  });
  const onMap = h("div", { class: "map-dm-actions" },
    h("div", { class: "row" }, h("label", {}, "Map on screen ", mapSelect), activate),
    h("div", { class: "row" }, h("label", {}, "Token ", source), h("label", {}, hidden, " hidden"), place),
    h("div", { class: "row" }, selectedLine, toggle, remove),
    h("div", { class: "row" }, revealAll, coverAll, clearDrawings),
    h("div", { class: "row" }, h("label", {}, "Grid ", gridSize, " px"), h("label", {}, "offset x ", offsetX),
      h("label", {}, "y ", offsetY), applyGrid),
    h("div", { class: "row" }, mapName, rename, deleteMap));
  onMap.hidden = true; // until a map is on screen

  return {
    element(mapView) {
      view = mapView;
      return h("details", { class: "map-dm-tools", open: true }, h("summary", {}, "DM map tools"), upload, onMap);
    },
    render(mapView) {
      view = mapView;
      const scene = view.scene;
      const map = scene.map;
      onMap.hidden = !map;
      syncOptions(mapSelect, [...scene.maps.values()].map((m) => [m.map_id, `${m.map_name}${m.is_active ? " (shown)" : ""}`]), map && map.map_id);
      activate.disabled = !map || map.is_active;
      if (map) {
        for (const [input, value] of [[gridSize, map.grid_size], [offsetX, map.grid_offset_x], [offsetY, map.grid_offset_y], [mapName, map.map_name]]) {
          // What the DM is typing stays; otherwise the map's values (a rename or new grid from elsewhere).
          if (document.activeElement !== input && input.dataset.shown !== `${map.map_id}:${value}`) {
            input.value = value;
            input.dataset.shown = `${map.map_id}:${value}`;
          }
        }
      }
      const options = [["marker", "Marker"],
        ...state.charactersSorted().map((c) => [`character:${c.character_id}`, c.character_name]),
        ...state.monstersSorted().filter((m) => !m.is_dead).map((m) => [`monster:${m.instance_id}`, m.instance_name])];
      syncOptions(source, options, source.value || "marker");
      const token = selected();
      setText(selectedLine, token ? `Selected: ${token.label}${token.hidden ? " (hidden)" : ""}` : "Click a token to select it");
      toggle.hidden = remove.hidden = !token;
      setText(toggle, token && token.hidden ? "Show to players" : "Hide from players");
    },
  };
}

function syncOptions(select, options, value) {
  const key = JSON.stringify(options);
  if (select.dataset.options !== key) {
    select.dataset.options = key;
    select.replaceChildren(...options.map(([optionValue, label]) => h("option", { value: String(optionValue) }, label)));
  }
  if (value != null) select.value = String(value);
}

function allCells(map) {
  const cells = [];
  for (let col = -1; col <= Math.ceil(map.width / map.grid_size); col++) {
    for (let row = -1; row <= Math.ceil(map.height / map.grid_size); row++) cells.push([col, row]);
  }
  return cells.slice(0, 5000);
}

/** A new token at the middle of what the DM is looking at. */
async function placeToken(vtt, view, source, hidden) {
  const map = view.scene.map;
  const { x, y, scale } = view.camera;
  const board = view.board;
  const centre = (screen, offset, size) => Math.round(Math.max(0, Math.min(size, (screen / 2 - offset) / scale)));
  const body = { map_id: map.map_id, x_position: centre(board.clientWidth, x, map.width), y_position: centre(board.clientHeight, y, map.height), hidden };
  const [kind, id] = source.split(":");
  body.color = { character: "#2E6FD8", monster: "#C0392B" }[kind] || "#F1C40F";
  if (kind === "character") body.character_id = Number(id);
  if (kind === "monster") body.monster_instance_id = Number(id);
  const token = await vtt.post("session/maps/tokens/add.php", body);
  view.selected = token.token_id;
}

async function uploadMap(vtt, sessionId, form) {
  form.set("session_id", String(sessionId));
  const response = await fetch(vtt.url("session/maps/upload.php"), {
    method: "POST", body: form, credentials: "include", headers: { "X-CSRF-Token": vtt.csrfToken || "" },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok || !body || body.status !== "success") {
    const error = new Error((body && body.message) || `The server answered ${response.status}`);
    error.errors = body && body.errors;
    throw error;
  }
  return body.data;
}
