// Mouse, pen and touch on the battle map: pan (drag the background), zoom (wheel, buttons, pinch with two
// fingers), drag a token (sent live at most every 50 ms, dropped as one durable move the server confirms
// or corrects), draw or erase a stroke, ping a point, and for the DM select cells to reveal or hide (a rectangle,
// or a polygon's corners one click at a time).

import { announce } from "./ui.js";

const DRAG_INTERVAL_MS = 50; // 20 drags a second: the server's limit per user
const MAX_POINTS = 2000; // the server's bound on a drawing's path
const MAX_CELLS = 5000; // the server's bound on one fog change
const MAX_POLYGON_POINTS = 200; // the server's bound on a fog polygon's corners

export function fit(view, board, render) {
  const map = view.scene.map;
  if (!map) return render();
  const width = board.clientWidth || 600;
  const height = board.clientHeight || 400;
  const scale = Math.min(width / map.width, height / map.height);
  view.camera = { scale, x: (width - map.width * scale) / 2, y: (height - map.height * scale) / 2 };
  render();
}

export function zoomAt(view, board, factor, sx, sy, render) {
  const c = view.camera;
  const scale = Math.max(0.05, Math.min(8, c.scale * factor));
  const k = scale / c.scale;
  view.camera = { scale, x: sx - (sx - c.x) * k, y: sy - (sy - c.y) * k };
  render();
}

export function attachPointer(view, board, camera, { render, game, vtt, marquee, sketch, movable }) {
  const pointers = new Map(); // pointerId -> screen point within the board
  let gesture = null;
  const scene = view.scene;
  const toMap = (event) => {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(camera.getScreenCTM().inverse());
    return { x: point.x, y: point.y };
  };
  const onBoard = (event) => {
    const rect = board.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const clamp = (value, max) => Math.round(Math.max(0, Math.min(max, value)) * 10) / 10;

  board.addEventListener("pointerdown", (event) => {
    if (!scene.map) return;
    board.setPointerCapture?.(event.pointerId);
    pointers.set(event.pointerId, onBoard(event));
    if (pointers.size === 2) {
      cancel(gesture);
      const [a, b] = [...pointers.values()];
      gesture = { kind: "pinch", distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, camera: { ...view.camera } };
      return;
    }
    const tokenEl = event.target.closest ? event.target.closest(".token") : null;
    const token = tokenEl ? scene.tokens.get(Number(tokenEl.dataset.tokenId)) : null;
    const at = toMap(event);
    if (view.tool === "move" && token && movable(token)) {
      const position = scene.position(token);
      gesture = { kind: "drag", token, dx: at.x - position.x, dy: at.y - position.y, moved: false, lastSent: 0, timer: null };
    } else if (view.tool === "move") {
      gesture = { kind: "pan", from: onBoard(event), camera: { ...view.camera }, moved: false };
    } else if (view.tool === "reveal" || view.tool === "hide") {
      gesture = { kind: "fog", from: at, to: at };
      showMarquee(gesture);
    } else if (view.tool === "draw" || view.tool === "erase") {
      const erase = view.tool === "erase";
      gesture = { kind: "draw", erase, points: [[Math.round(at.x), Math.round(at.y)]] };
      sketch.setAttribute("points", `${at.x},${at.y}`);
      sketch.setAttribute("stroke", erase ? "rgba(255, 255, 255, 0.5)" : view.brush.color);
      sketch.setAttribute("stroke-width", view.brush.size);
    } else if (view.tool === "polygon") {
      if (view.polygon.length < MAX_POLYGON_POINTS) view.polygon.push([clamp(at.x, scene.map.width), clamp(at.y, scene.map.height)]);
      gesture = null;
      render();
    } else if (view.tool === "ping") {
      const body = { type: "map_ping", map_id: scene.map.map_id, x_position: clamp(at.x, scene.map.width), y_position: clamp(at.y, scene.map.height) };
      game.send(body);
      scene.addPing(body.x_position, body.y_position);
      gesture = null;
    }
  });

  board.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, onBoard(event));
    if (!gesture) return;
    const map = scene.map;
    if (gesture.kind === "pinch" && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      view.camera = gesture.camera;
      zoomAt(view, board, Math.hypot(a.x - b.x, a.y - b.y) / gesture.distance, (a.x + b.x) / 2, (a.y + b.y) / 2, render);
    } else if (gesture.kind === "pan") {
      const now = onBoard(event);
      gesture.moved = gesture.moved || Math.hypot(now.x - gesture.from.x, now.y - gesture.from.y) > 3;
      view.camera = { ...gesture.camera, x: gesture.camera.x + now.x - gesture.from.x, y: gesture.camera.y + now.y - gesture.from.y };
      render();
    } else if (gesture.kind === "drag") {
      const at = toMap(event);
      const position = { x: clamp(at.x - gesture.dx, map.width), y: clamp(at.y - gesture.dy, map.height) };
      gesture.moved = true;
      gesture.latest = position;
      view.local.set(gesture.token.token_id, position);
      sendDrag(gesture);
      render();
    } else if (gesture.kind === "fog") {
      gesture.to = toMap(event);
      showMarquee(gesture);
    } else if (gesture.kind === "draw" && gesture.points.length < MAX_POINTS) {
      const at = toMap(event);
      const [lastX, lastY] = gesture.points[gesture.points.length - 1];
      if (Math.hypot(at.x - lastX, at.y - lastY) >= 2 / view.camera.scale) {
        gesture.points.push([clamp(at.x, map.width), clamp(at.y, map.height)]);
        sketch.setAttribute("points", gesture.points.map(([x, y]) => `${x},${y}`).join(" "));
      }
    }
  });

  const end = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    const done = gesture;
    if (done && done.kind === "pinch") {
      if (pointers.size === 0) gesture = null;
      return;
    }
    gesture = null;
    if (done) finish(done).catch((error) => announce(error.message || "Something went wrong", "error", error));
  };
  board.addEventListener("pointerup", end);
  board.addEventListener("pointercancel", end);
  board.addEventListener("wheel", (event) => {
    if (!scene.map) return;
    event.preventDefault();
    const at = onBoard(event);
    zoomAt(view, board, Math.exp(-event.deltaY * 0.0015), at.x, at.y, render);
  }, { passive: false });

  function sendDrag(drag) {
    const elapsed = performance.now() - drag.lastSent;
    const send = () => {
      drag.timer = null;
      drag.lastSent = performance.now();
      game.send({ type: "drag", token_id: drag.token.token_id, x_position: drag.latest.x, y_position: drag.latest.y });
    };
    if (elapsed >= DRAG_INTERVAL_MS) send();
    else if (!drag.timer) drag.timer = setTimeout(send, DRAG_INTERVAL_MS - elapsed);
  }

  function cancel(current) {
    if (current && current.kind === "drag") {
      clearTimeout(current.timer);
      view.local.delete(current.token.token_id);
    }
    marquee.setAttribute("visibility", "hidden");
    sketch.removeAttribute("points");
  }

  function showMarquee(fog) {
    marquee.setAttribute("visibility", "visible");
    marquee.setAttribute("x", Math.min(fog.from.x, fog.to.x));
    marquee.setAttribute("y", Math.min(fog.from.y, fog.to.y));
    marquee.setAttribute("width", Math.abs(fog.to.x - fog.from.x));
    marquee.setAttribute("height", Math.abs(fog.to.y - fog.from.y));
  }

  async function finish(done) {
    const map = scene.map;
    if (done.kind === "drag") {
      clearTimeout(done.timer);
      const tokenId = done.token.token_id;
      if (!done.moved) {
        view.local.delete(tokenId);
        view.selected = view.selected === tokenId ? null : tokenId;
        return render();
      }
      game.send({ type: "drag_end", token_id: tokenId });
      try {
        const answer = await vtt.request("PUT", "session/maps/tokens/move.php", {
          body: { token_id: tokenId, x_position: done.latest.x, y_position: done.latest.y },
        });
        if (scene.tokens.has(tokenId)) scene.tokens.set(tokenId, { ...scene.tokens.get(tokenId), ...answer.data });
      } finally {
        view.local.delete(tokenId); // the server's position from here on (corrected if it refused)
        render();
      }
    } else if (done.kind === "fog") {
      marquee.setAttribute("visibility", "hidden");
      const [c0, r0] = scene.cellOf(Math.min(done.from.x, done.to.x), Math.min(done.from.y, done.to.y));
      const [c1, r1] = scene.cellOf(Math.max(done.from.x, done.to.x), Math.max(done.from.y, done.to.y));
      const lastCol = Math.ceil(map.width / map.grid_size);
      const lastRow = Math.ceil(map.height / map.grid_size);
      const cells = [];
      for (let col = Math.max(-1, c0); col <= Math.min(lastCol, c1); col++) {
        for (let row = Math.max(-1, r0); row <= Math.min(lastRow, r1); row++) cells.push([col, row]);
      }
      const path = `session/maps/fog/${view.tool === "hide" ? "hide" : "reveal"}.php`;
      for (let start = 0; start < cells.length; start += MAX_CELLS) {
        await vtt.post(path, { map_id: map.map_id, cells: cells.slice(start, start + MAX_CELLS) });
      }
    } else if (done.kind === "draw") {
      sketch.removeAttribute("points");
      await vtt.post("session/maps/drawings/add.php", {
        map_id: map.map_id, drawing_type: done.erase ? "erase" : "stroke", color: view.brush.color, brush_size: view.brush.size,
        path_data: done.points,
      });
    }
  }
}
