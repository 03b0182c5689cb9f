// Benchmark peer: Node Socket.IO 4, one room per game session; POST /api/character/update-hp.php does
// the same writes as our server (character HP, the session's event head, one event-log row) in one
// better-sqlite3 transaction, then emits the same envelope to the room.
// Usage: node server.js PORT DB_PATH
'use strict';
const http = require('http');
const Database = require('better-sqlite3');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 3000);
const db = new Database(process.argv[3] || 'peer.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 30000');

const tokenUser = db.prepare('SELECT user_id FROM login_tokens WHERE token = ?');
const charRow = db.prepare(
  'SELECT c.character_id, c.session_id, c.user_id, c.character_name, c.current_hp, c.max_hp, g.dm_user_id ' +
  'FROM characters c JOIN game_sessions g ON g.session_id = c.session_id WHERE c.character_id = ?');
const setHp = db.prepare('UPDATE characters SET current_hp = ?, updated_at = ? WHERE character_id = ?');
const nextEvent = db.prepare(
  'UPDATE game_sessions SET event_head = event_head + 1 WHERE session_id = ? RETURNING event_head');
const insertEvent = db.prepare(
  'INSERT INTO session_events (session_id, event_id, event_type, event_data, created_at) VALUES (?, ?, ?, ?, ?)');

function now() { return new Date().toISOString().slice(0, 19).replace('T', ' '); }

const updateHp = db.transaction((userId, characterId, damage, healing) => {
  const row = charRow.get(characterId);
  if (!row) return [404, null];
  if (row.user_id !== userId && row.dm_user_id !== userId) return [403, null];
  const newHp = Math.max(0, Math.min(row.max_hp, row.current_hp - damage + healing));
  const at = now();
  setHp.run(newHp, at, characterId);
  const eventId = nextEvent.get(row.session_id).event_head;
  const data = {
    character_id: characterId, character_name: row.character_name, user_id: row.user_id,
    old_hp: row.current_hp, current_hp: newHp, max_hp: row.max_hp, damage, healing, is_dead: newHp <= 0,
  };
  insertEvent.run(row.session_id, eventId, 'character_hp_updated', JSON.stringify(data), at);
  const envelope = { event_id: eventId, event_type: 'character_hp_updated', event_data: data, created_at: at };
  return [200, { row, newHp, envelope }];
});

function cookieToken(header) {
  const m = /(?:^|;\s*)sessionToken=([^;]+)/.exec(header || '');
  return m ? m[1] : null;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// bench --access-log: one line per request, like our server's request log (bench/serverwrap.py)
const accessLog = process.env.BENCH_ACCESS_LOG === '1';

const server = http.createServer((req, res) => {
  if (accessLog) {
    const started = process.hrtime.bigint();
    res.on('finish', () => console.log(
      `${req.method} ${req.url} ${res.statusCode} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(2)} ms`));
  }
  if (req.method !== 'POST' || req.url !== '/api/character/update-hp.php') {
    send(res, 404, { status: 'error', error: 'resource_not_found' });
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const token = cookieToken(req.headers.cookie);
    const user = token && tokenUser.get(token);
    if (!user) { send(res, 401, { status: 'error', error: 'authentication_required' }); return; }
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString()); } catch (e) {
      send(res, 400, { status: 'error', error: 'bad_request' }); return;
    }
    const [status, result] = updateHp(user.user_id, body.character_id | 0, body.damage | 0, body.healing | 0);
    if (status !== 200) { send(res, status, { status: 'error' }); return; }
    io.to('s' + result.row.session_id).emit('event', result.envelope);
    send(res, 200, {
      status: 'success', message: 'HP updated successfully',
      data: { character_id: result.row.character_id, current_hp: result.newHp, max_hp: result.row.max_hp,
              is_dead: result.newHp <= 0 },
    });
  });
});

const io = new Server(server, { perMessageDeflate: false, transports: ['websocket', 'polling'] });
io.use((socket, next) => {
  const token = cookieToken(socket.handshake.headers.cookie);
  if (token && tokenUser.get(token)) return next();
  next(new Error('authentication_required'));
});
io.on('connection', (socket) => {
  const sid = Number(socket.handshake.query.session_id);
  socket.join('s' + sid);
});

server.listen(port, '127.0.0.1', () => console.log(`node socket.io peer on ${port}`));
process.on('SIGTERM', () => { io.close(); process.exit(0); });
