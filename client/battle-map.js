// The battle map in both screens: the image with its grid, the fog, drawings, tokens with names (and HP
// bars where this viewer may see HP), pings; pan and zoom with mouse, wheel and touch (pinch); dragging
// a token (optimistic, sent live as ephemeral drags, dropped as one durable move that the server
// confirms or corrects); drawing and pinging. The DM's tools come from dm-map-tools.js.

import { h, setText, announce, busy } from "./ui.js";
import { MapScene } from "./map-state.js";
import { attachPointer, fit, zoomAt } from "./map-pointer.js";

const SVG = "http://www.w3.org/2000/svg";
let panels = 0;

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, value);
  el.append(...children);
  return el;
}

/** The drawings in order; an erase stroke masks out everything drawn before it (not what comes after). */
function drawingLayers(list, map, panelId) {
  const masks = [];
  let layer = [];
  list.forEach((d, index) => {
    const points = d.path_data.map(([x, y]) => `${x},${y}`).join(" ");
    const line = (stroke, cls) => svg("polyline", { points, fill: "none", "stroke-width": d.brush_size, stroke, class: cls });
    if (d.drawing_type !== "erase") return void layer.push(line(d.color, "stroke"));
    const maskId = `erase-${panelId}-${index}`;
    const area = { x: 0, y: 0, width: map.width, height: map.height };
    masks.push(svg("mask", { id: maskId, maskUnits: "userSpaceOnUse", ...area }, svg("rect", { ...area, fill: "white" }), line("black", "erase")));
    layer = [svg("g", { mask: `url(#${maskId})`, class: "erased", dataset: { drawingId: d.drawing_id } }, ...layer)];
  });
  return [svg("defs", {}, ...masks), ...layer];
}

/** Revealed cells ("col,row") as runs [row, first column, last column] along each row. */
function runsOf(revealed) {
  const cells = [...revealed].map((cell) => cell.split(",").map(Number)).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const runs = [];
  for (const [col, row] of cells) {
    const last = runs[runs.length - 1];
    if (last && last[0] === row && last[2] === col - 1) last[2] = col;
    else runs.push([row, col, col]);
  }
  return runs;
}

export function mapPanel(context, dmTools) {
  const { vtt, game, state, role } = context;
  const id = ++panels;
  const scene = new MapScene(vtt, context.sessionId, role);
  const view = { scene, tool: "move", camera: { x: 0, y: 0, scale: 1 }, selected: null, local: new Map(), brush: { color: "#FFD400", size: 4 } };
  context.battleMap = view; // for the console and the browser tests

  const image = svg("image", { preserveAspectRatio: "none" });
  const gridPath = svg("path", { class: "grid-line" });
  const pattern = svg("pattern", { id: `grid-${id}`, patternUnits: "userSpaceOnUse" }, gridPath);
  const fogHoles = svg("g");
  const mask = svg("mask", { id: `fog-${id}` }, svg("rect", { class: "fog-all", fill: "white" }), fogHoles);
  const grid = svg("rect", { fill: `url(#grid-${id})`, class: "map-grid" });
  const fog = svg("rect", { mask: `url(#fog-${id})`, class: role === "dm" ? "fog dm" : "fog" });
  const drawings = svg("g", { class: "drawings" });
  const sketch = svg("polyline", { class: "sketch", fill: "none" });
  const tokens = svg("g", { class: "tokens" });
  const pings = svg("g", { class: "pings" });
  const marquee = svg("rect", { class: "marquee", visibility: "hidden" });
  const outline = svg("polygon", { class: "fog-outline" });
  const camera = svg("g", { class: "camera" }, image, drawings, grid, fog, sketch, tokens, pings, marquee, outline);
  const board = svg("svg", { class: "board", role: "img", "aria-label": "Battle map" }, svg("defs", {}, pattern, mask), camera);
  const viewport = h("div", { class: "map-viewport" }, board);
  const empty = h("p", { class: "muted map-empty" }, role === "dm" ? "No map yet: upload one." : "The DM has not shown a map yet.");

  const tools = [["move", "Move"], ["draw", "Draw"], ["erase", "Erase"], ["ping", "Ping"],
    ...(role === "dm" ? [["reveal", "Reveal"], ["hide", "Hide"], ["polygon", "Polygon"]] : [])];
  const toolButtons = tools.map(([name, label]) => {
    const button = h("button", { type: "button", class: "tool", "aria-pressed": String(name === view.tool), dataset: { tool: name } }, label);
    button.addEventListener("click", () => {
      view.tool = name;
      for (const other of toolButtons) other.setAttribute("aria-pressed", String(other === button));
      showOptions();
    });
    return button;
  });
  // The polygon tool: each click on the map adds a corner; then reveal or hide the cells whose centre is inside.
  view.polygon = [];
  const polygonCount = h("span", { class: "meta polygon-count" });
  const polygonAction = (action) => {
    const button = h("button", { type: "button" }, `${action === "reveal" ? "Reveal" : "Hide"} polygon`);
    button.addEventListener("click", () => busy(button, async () => {
      await vtt.post(`session/maps/fog/${action}.php`, { map_id: scene.map.map_id, polygon: view.polygon });
      view.polygon = [];
      render();
    }));
    return button;
  };
  const revealPolygon = polygonAction("reveal");
  const hidePolygon = polygonAction("hide");
  const clearPolygon = h("button", { type: "button", class: "ghost", onclick: () => { view.polygon = []; render(); } }, "Clear corners");
  const polygonOptions = h("div", { class: "tool-options polygon-options" }, polygonCount, revealPolygon, hidePolygon, clearPolygon);
  // Draw and Erase: the brush's colour and width.
  const brushColor = h("input", { type: "color", value: view.brush.color.toLowerCase(), "aria-label": "Brush colour" });
  brushColor.addEventListener("input", () => { view.brush.color = brushColor.value.toUpperCase(); });
  const brushSize = h("input", { type: "range", min: 1, max: 50, value: view.brush.size, "aria-label": "Brush size" });
  brushSize.addEventListener("input", () => { view.brush.size = Number(brushSize.value); });
  const brushOptions = h("div", { class: "tool-options brush-options" },
    h("label", { class: "check" }, "Colour ", brushColor), h("label", { class: "check" }, "Width ", brushSize));
  function showOptions() {
    brushOptions.hidden = !scene.map || (view.tool !== "draw" && view.tool !== "erase");
    brushColor.disabled = view.tool === "erase";
    polygonOptions.hidden = !scene.map || view.tool !== "polygon";
    const corners = view.polygon.length;
    setText(polygonCount, corners ? `${corners} corner${corners === 1 ? "" : "s"}` : "Click the map to set corners");
    revealPolygon.disabled = hidePolygon.disabled = corners < 3;
    clearPolygon.disabled = corners === 0;
  }
  const zoom = (factor) => () => zoomAt(view, board, factor, board.clientWidth / 2, board.clientHeight / 2, render);
  const toolbar = h("div", { class: "map-toolbar", role: "toolbar", "aria-label": "Map tools" },
    h("div", { class: "tools" }, toolButtons),
    h("div", { class: "zoom" },
      h("button", { type: "button", "aria-label": "Zoom in", onclick: zoom(1.25) }, "+"),
      h("button", { type: "button", "aria-label": "Zoom out", onclick: zoom(0.8) }, "−"),
      h("button", { type: "button", onclick: () => fit(view, board, render) }, "Fit")),
    brushOptions, role === "dm" ? polygonOptions : null);
  const title = h("p", { class: "map-title" });

  let fogKey = null;
  let drawnCount = -1;
  function render() {
    const map = scene.map;
    viewport.hidden = !map;
    empty.hidden = !!map;
    setText(title, map ? `${map.map_name}${role === "dm" && !map.is_active ? " (not shown to players)" : ""}` : "");
    showOptions();
    if (!map) return;
    if (view.fitted !== map.map_id && board.clientWidth > 0) {
      view.fitted = map.map_id; // a map just shown: the whole of it in view, once the board has its size
      fit(view, board, () => {});
    }
    camera.setAttribute("transform", `translate(${view.camera.x} ${view.camera.y}) scale(${view.camera.scale})`);
    if (image.getAttribute("href") !== map.image_url) image.setAttribute("href", map.image_url);
    for (const el of [image, grid, fog, mask.firstElementChild]) {
      el.setAttribute("width", map.width);
      el.setAttribute("height", map.height);
    }
    const g = map.grid_size;
    pattern.setAttribute("width", g);
    pattern.setAttribute("height", g);
    pattern.setAttribute("x", map.grid_offset_x);
    pattern.setAttribute("y", map.grid_offset_y);
    gridPath.setAttribute("d", `M ${g} 0 L 0 0 0 ${g}`);
    const key = `${map.map_id}:${map.grid_size}:${map.grid_offset_x}:${map.grid_offset_y}:${scene.fogVersion}`;
    if (key !== fogKey) {
      fogKey = key;
      // One hole per run of revealed cells along a row: a revealed room is a few rects, not thousands.
      fogHoles.replaceChildren(...runsOf(scene.revealed).map(([row, first, last]) => svg("rect", {
        x: map.grid_offset_x + first * g, y: map.grid_offset_y + row * g, width: (last - first + 1) * g, height: g, fill: "black",
      })));
    }
    if (scene.drawings.length !== drawnCount) {
      drawnCount = scene.drawings.length;
      drawings.replaceChildren(...drawingLayers(scene.drawings, map, id));
    }
    outline.setAttribute("points", view.polygon.map(([x, y]) => `${x},${y}`).join(" "));
    renderTokens();
    pings.replaceChildren(...scene.pings.map((p) => svg("circle", { cx: p.x, cy: p.y, r: g / 2, class: "ping" })));
    if (dmTools) dmTools.render(view);
  }

  const tokenEls = new Map();
  function renderTokens() {
    const g = scene.map.grid_size;
    for (const [tokenId, el] of tokenEls) if (!scene.tokens.has(tokenId)) (el.remove(), tokenEls.delete(tokenId));
    for (const token of scene.tokens.values()) {
      let el = tokenEls.get(token.token_id);
      if (!el) {
        el = svg("g", { class: "token", "data-token-id": token.token_id },
          svg("circle", { class: "disc" }), svg("text", { class: "label", "text-anchor": "middle" }),
          svg("rect", { class: "hp-back" }), svg("rect", { class: "hp-front" }), svg("title"));
        tokens.append(el);
        tokenEls.set(token.token_id, el);
      }
      const { x, y } = view.local.get(token.token_id) || scene.position(token);
      const r = (token.size * g) / 2 * 0.85;
      el.setAttribute("transform", `translate(${x} ${y})`);
      el.classList.toggle("hidden-token", token.hidden === true);
      el.classList.toggle("selected", view.selected === token.token_id);
      el.classList.toggle("movable", movable(token));
      const [disc, label, back, front, tip] = el.children;
      disc.setAttribute("r", r);
      disc.setAttribute("fill", token.color);
      label.setAttribute("y", r + 14);
      setText(label, token.label);
      const hp = hitPoints(token);
      for (const bar of [back, front]) {
        bar.setAttribute("visibility", hp ? "visible" : "hidden");
        bar.setAttribute("x", -r);
        bar.setAttribute("y", -r - 9);
        bar.setAttribute("height", 5);
      }
      back.setAttribute("width", 2 * r);
      if (hp) front.setAttribute("width", 2 * r * Math.max(0, Math.min(1, hp.current / hp.max)));
      setText(tip, `${token.label}${hp ? ` — ${hp.current}/${hp.max} HP` : token.monster ? ` — ${token.monster.condition}` : ""}`);
    }
  }

  function movable(token) {
    return role === "dm" || token.owner_user_id === context.me.user_id;
  }

  /** HP this viewer may see: characters (the party's), monsters for the DM only. */
  function hitPoints(token) {
    if (token.character_id != null) {
      const c = state.characters.get(token.character_id);
      return c && c.max_hp ? { current: c.current_hp, max: c.max_hp } : null;
    }
    if (token.monster && role === "dm") {
      const m = state.monsters.get(token.monster.instance_id) || token.monster;
      return m.max_hp ? { current: m.current_hp, max: m.max_hp } : null;
    }
    return null;
  }

  attachPointer(view, board, camera, { render, game, vtt, marquee, sketch, movable });
  scene.onChange(render);
  // The snapshot's map is shown before the panel is on the page: fit it when the board gets its size.
  new ResizeObserver(() => scene.map && view.fitted !== scene.map.map_id && render()).observe(board);
  state.onChange(() => scene.map && renderTokens());
  const unsubscribe = [
    game.on("*", (event) => scene.apply(event.event_type, event.event_data, event)),
    game.on("ephemeral", (type, data) => scene.applyEphemeral(type, data)),
  ];
  view.stop = () => unsubscribe.forEach((off) => off());
  const load = (first) => scene.start(first).catch((error) => announce(error.message, "error", error));
  view.reload = () => load();
  view.board = board;
  view.fit = () => fit(view, board, render);
  load({ scene: context.snapshotMap ?? null }); // the snapshot's active map: no second request on joining
  render();
  const section = h("section", { class: "panel panel-map", "aria-labelledby": `map-h-${id}` },
    h("h2", { id: `map-h-${id}` }, "Battle map"), title, toolbar, viewport, empty, dmTools ? dmTools.element(view) : null);
  return section;
}
