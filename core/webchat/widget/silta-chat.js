/*
 * Silta web chat widget.
 *
 * One dependency-free script that a site embeds with a single <script> tag
 * (see core/webchat/PROTOCOL.md, which this file implements). It renders
 * into a Shadow DOM, talks to the gateway over a WebSocket (or SSE + POSTs
 * as the fallback) and keeps the visitor's unaccepted messages in
 * localStorage so that nothing is lost or shown twice across reconnects and
 * reloads.
 */
(() => {
  'use strict';
  if (window.SiltaChat) return; // embedded twice: the first copy wins

  const script = document.currentScript || document.querySelector('script[src*="/widget.js"]');
  if (!script) return;
  const DATA = script.dataset;
  const BASE = script.src.replace(/\/widget\.js(?:[?#].*)?$/, '');
  const KEY_VISITOR = `silta-chat:${BASE}:visitor`;
  const KEY_PENDING = `silta-chat:${BASE}:pending`;

  const MAX_TEXT = 4000;
  const TYPING_EVERY_MS = 3000; // at most one typing:true per this interval
  const TYPING_IDLE_MS = 2000; // no keystroke for this long: typing:false
  const AGENT_TYPING_MS = 6000; // agent indicator hides itself after this
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const WS_FAILS_FOR_FALLBACK = 3;
  const WS_FAIL_WINDOW_MS = 60000;
  const RECEIPT_BATCH = 100; // the gateway reads at most this many ids per receipt frame

  // ---------------------------------------------------------------- strings

  // Letters outside ASCII are written as escapes (ä \u00e4, ö \u00f6, å \u00e5,
  // … \u2026, – \u2013) so that the script reads right whatever charset the
  // page or the server declares.
  const STRINGS = {
    fi: {
      launcher: 'Chat', title: 'Asiakaspalvelu', close: 'Sulje chat', log: 'Keskustelu',
      message: 'Viesti', placeholder: 'Kirjoita viesti\u2026', send: 'L\u00e4het\u00e4', attach: 'Liit\u00e4 tiedosto',
      you: 'Sin\u00e4:', agent: 'Asiakaspalvelija:', bot: 'Botti:', empty: 'Hei! Miten voimme auttaa?',
      typing: 'Asiakaspalvelu kirjoittaa\u2026', uploading: 'Ladataan\u2026 {p} %', sending: 'L\u00e4hetet\u00e4\u00e4n\u2026',
      accepted: 'L\u00e4hetetty', delivered: 'Toimitettu', read: 'Luettu', failed: 'Viesti\u00e4 ei voitu l\u00e4hett\u00e4\u00e4',
      tooLarge: 'Tiedosto on liian suuri.', badType: 'T\u00e4t\u00e4 tiedostotyyppi\u00e4 ei voi l\u00e4hett\u00e4\u00e4.',
      uploadFailed: 'Tiedoston l\u00e4hetys ep\u00e4onnistui.', tooLong: 'Viesti on liian pitk\u00e4 (enint\u00e4\u00e4n 4 000 merkki\u00e4).',
      connecting: 'Yhdistet\u00e4\u00e4n\u2026', online: 'Yhdistetty', reconnecting: 'Yhteys katkesi \u2013 yhdistet\u00e4\u00e4n uudelleen\u2026',
      attachment: 'Liite', units: ['t', 'kt', 'Mt', 'Gt'],
    },
    sv: {
      launcher: 'Chatt', title: 'Kundtj\u00e4nst', close: 'St\u00e4ng chatten', log: 'Konversation',
      message: 'Meddelande', placeholder: 'Skriv ett meddelande\u2026', send: 'Skicka', attach: 'Bifoga fil',
      you: 'Du:', agent: 'Kundtj\u00e4nst:', bot: 'Bot:', empty: 'Hej! Hur kan vi hj\u00e4lpa dig?',
      typing: 'Kundtj\u00e4nst skriver\u2026', uploading: 'Laddar upp\u2026 {p} %', sending: 'Skickar\u2026',
      accepted: 'Skickat', delivered: 'Levererat', read: 'L\u00e4st', failed: 'Meddelandet kunde inte skickas',
      tooLarge: 'Filen \u00e4r f\u00f6r stor.', badType: 'Den h\u00e4r filtypen kan inte skickas.',
      uploadFailed: 'Filen kunde inte laddas upp.', tooLong: 'Meddelandet \u00e4r f\u00f6r l\u00e5ngt (h\u00f6gst 4 000 tecken).',
      connecting: 'Ansluter\u2026', online: 'Ansluten', reconnecting: 'Anslutningen br\u00f6ts \u2013 ansluter igen\u2026',
      attachment: 'Bilaga', units: ['byte', 'kB', 'MB', 'GB'],
    },
    en: {
      launcher: 'Chat', title: 'Customer service', close: 'Close chat', log: 'Conversation',
      message: 'Message', placeholder: 'Write a message\u2026', send: 'Send', attach: 'Attach a file',
      you: 'You:', agent: 'Agent:', bot: 'Bot:', empty: 'Hi! How can we help?',
      typing: 'Customer service is typing\u2026', uploading: 'Uploading\u2026 {p}%', sending: 'Sending\u2026',
      accepted: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'The message could not be sent',
      tooLarge: 'The file is too large.', badType: 'This type of file cannot be sent.',
      uploadFailed: 'The upload failed.', tooLong: 'The message is too long (at most 4,000 characters).',
      connecting: 'Connecting\u2026', online: 'Connected', reconnecting: 'Connection lost \u2013 reconnecting\u2026',
      attachment: 'Attachment', units: ['B', 'kB', 'MB', 'GB'],
    },
  };

  const LANG = [DATA.lang, ...(navigator.languages || []), navigator.language]
    .map((l) => String(l || '').toLowerCase().slice(0, 2))
    .find((l) => l in STRINGS) || 'en';
  const S = STRINGS[LANG];
  const t = (key, vars = {}) => S[key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);

  const number = new Intl.NumberFormat(LANG, { maximumFractionDigits: 1 });
  const clock = new Intl.DateTimeFormat(LANG, { hour: '2-digit', minute: '2-digit' });

  function humanSize(bytes) {
    let n = Number(bytes) || 0;
    let unit = 0;
    while (n >= 1024 && unit < S.units.length - 1) { n /= 1024; unit += 1; }
    return `${number.format(unit === 0 ? n : Math.round(n * 10) / 10)} ${S.units[unit]}`;
  }

  // ---------------------------------------------------------------- storage

  // localStorage may be unavailable (privacy modes); the widget then works
  // from memory alone.
  const store = {
    get(key) { try { return localStorage.getItem(key); } catch { return null; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch { /* memory only */ } },
  };

  function storedPending() {
    try {
      const list = JSON.parse(store.get(KEY_PENDING) || '[]');
      return Array.isArray(list) ? list.filter((p) => p && typeof p.client_id === 'string') : [];
    } catch { return []; }
  }

  // The outbox: messages written but not yet accepted, by client_id. Every
  // change is a read-modify-write of the stored list, so that two tabs of
  // the same site do not overwrite each other's messages.
  const outbox = new Map(storedPending().map((p) => [p.client_id, p]));

  function outboxAdd(item) {
    outbox.set(item.client_id, item);
    const list = storedPending().filter((p) => p.client_id !== item.client_id);
    list.push(item);
    store.set(KEY_PENDING, JSON.stringify(list));
  }

  function outboxRemove(clientId) {
    outbox.delete(clientId);
    const list = storedPending();
    const kept = list.filter((p) => p.client_id !== clientId);
    if (kept.length !== list.length) store.set(KEY_PENDING, JSON.stringify(kept));
  }

  // ---------------------------------------------------------------- DOM

  const CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    .root { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
      color: #1b1f24; --accent: #0b57d0; --accent-dark: #0842a0; }
    .sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
      overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    button { font: inherit; cursor: pointer; }
    :focus-visible { outline: 3px solid #f0a202; outline-offset: 2px; }
    .launcher { position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border: 0;
      border-radius: 50%; background: var(--accent); color: #fff; display: grid; place-items: center;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); transition: transform .15s; }
    .launcher:hover { background: var(--accent-dark); transform: scale(1.05); }
    .launcher svg { width: 28px; height: 28px; }
    .window { position: fixed; right: 20px; bottom: 92px; width: 370px; max-width: calc(100vw - 16px);
      height: min(600px, calc(100vh - 112px)); display: flex; flex-direction: column; background: #fff;
      border-radius: 14px; overflow: hidden; box-shadow: 0 10px 40px rgba(0,0,0,.25);
      animation: pop .18s ease-out; }
    .window[hidden] { display: none; }
    @keyframes pop { from { opacity: 0; transform: translateY(12px); } }
    header { display: flex; align-items: center; gap: 8px; padding: 12px 12px 12px 18px;
      background: var(--accent); color: #fff; }
    header h2 { flex: 1; margin: 0; font-size: 17px; font-weight: 600; }
    .icon-btn { width: 40px; height: 40px; border: 0; border-radius: 8px; background: transparent;
      color: inherit; display: grid; place-items: center; }
    .icon-btn svg { width: 22px; height: 22px; }
    header .icon-btn:hover { background: rgba(255,255,255,.18); }
    header :focus-visible { outline-color: #fff; outline-offset: -3px; }
    .status { padding: 6px 18px; font-size: 13px; background: #fff4d6; color: #5c4300;
      border-bottom: 1px solid #f0dca0; }
    .status[data-state="online"] { position: absolute; width: 1px; height: 1px; overflow: hidden;
      clip: rect(0 0 0 0); padding: 0; border: 0; }
    .log { flex: 1; overflow-y: auto; margin: 0; padding: 16px 14px;
      display: flex; flex-direction: column; gap: 10px; background: #f7f8fa; }
    .empty { margin: auto; color: #5a6270; text-align: center; }
    .msg { display: flex; flex-direction: column; max-width: 85%; align-self: flex-start; }
    .msg[data-from="visitor"] { align-self: flex-end; align-items: flex-end; }
    .bubble { padding: 9px 13px; border-radius: 16px 16px 16px 4px; background: #fff; color: #1b1f24;
      border: 1px solid #e1e4ea; white-space: pre-wrap; overflow-wrap: anywhere; }
    .msg[data-from="visitor"] .bubble { border-radius: 16px 16px 4px 16px; background: var(--accent);
      border-color: var(--accent); color: #fff; }
    .msg[data-state="failed"] .bubble { background: #fff; color: #1b1f24; border: 1px solid #b3261e; }
    .atts { margin: 6px 0 0; padding: 0; list-style: none; }
    .atts li { display: flex; gap: 6px; align-items: center; font-size: 14px; }
    .atts svg, .meta svg { flex: none; width: 14px; height: 14px; }
    .meta { display: flex; align-items: center; gap: 4px; margin-top: 3px; font-size: 12px; color: #5a6270; }
    .msg[data-state="failed"] .meta { color: #b3261e; }
    .error { margin-top: 3px; font-size: 13px; color: #b3261e; }
    .typing { padding: 4px 18px 6px; font-size: 13px; color: #5a6270; background: #f7f8fa; }
    .typing[hidden] { display: none; }
    .dots { display: inline-block; margin-left: 4px; }
    .dots i { display: inline-block; width: 5px; height: 5px; margin: 0 1px; border-radius: 50%;
      background: currentColor; animation: blink 1.2s infinite both; }
    .dots i:nth-child(2) { animation-delay: .2s; } .dots i:nth-child(3) { animation-delay: .4s; }
    @keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
    form { display: flex; align-items: flex-end; gap: 4px; padding: 10px; border-top: 1px solid #e1e4ea; }
    textarea { flex: 1; min-width: 0; resize: none; max-height: 120px; padding: 9px 11px;
      border: 1px solid #8a93a3; border-radius: 10px; font: inherit; color: inherit; background: #fff; }
    textarea::placeholder { color: #6b7280; }
    textarea:focus-visible { outline: 3px solid var(--accent); outline-offset: 0; border-color: var(--accent); }
    form .icon-btn { color: #3c4350; flex: none; }
    form .icon-btn:hover { background: #eef0f4; }
    form .send { color: var(--accent); }
    .notice { padding: 6px 18px; font-size: 13px; color: #b3261e; }
    .notice:empty { display: none; }
    @media (max-width: 480px) {
      .window { right: 0; bottom: 0; width: 100vw; max-width: none; height: 100%; border-radius: 0; }
      .root[data-open="true"] .launcher { display: none; }
    }
    @media (prefers-reduced-motion: reduce) {
      .window, .dots i { animation: none; }
      .launcher { transition: none; }
      .launcher:hover { transform: none; }
    }
  `;

  const ICONS = {
    chat: '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>',
    close: '<path d="M6 6l12 12M18 6L6 18"/>',
    attach: '<path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l8-8"/>',
    send: '<path d="M4 12l16-8-6 16-3-7-7-1z"/>',
    clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    check: '<path d="M5 13l4 4L19 7"/>',
    checks: '<path d="M2 13l4 4L16 7M12 16l1 1L23 7"/>',
    alert: '<path d="M12 3l10 18H2z"/><path d="M12 10v4M12 17.5v.01"/>',
  };
  const icon = (name) => `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"
    stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${ICONS[name]}</svg>`;

  const host = document.createElement('div');
  host.setAttribute('data-silta-chat', '');
  host.lang = LANG;
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.innerHTML = `
    <style>${CSS}</style>
    <div class="root" lang="${LANG}" data-open="false">
      <section class="window" id="sc-window" role="dialog" aria-labelledby="sc-title" hidden
               data-testid="window">
        <header>
          <h2 id="sc-title">${S.title}</h2>
          <button type="button" class="icon-btn close" aria-label="${S.close}" data-testid="close">${icon('close')}</button>
        </header>
        <div class="status" role="status" aria-live="polite" data-testid="connection-status"
             data-state="connecting">${S.connecting}</div>
        <div class="log" role="log" aria-live="polite" aria-label="${S.log}" data-testid="log" tabindex="0">
          <p class="empty">${S.empty}</p>
        </div>
        <div class="typing" role="status" data-testid="typing" hidden>${S.typing}<span class="dots"
             aria-hidden="true"><i></i><i></i><i></i></span></div>
        <div class="notice" role="alert" data-testid="notice"></div>
        <form novalidate>
          <label class="sr" for="sc-text">${S.message}</label>
          <textarea id="sc-text" rows="1" maxlength="${MAX_TEXT}" placeholder="${S.placeholder}"
                    data-testid="composer"></textarea>
          <input type="file" hidden aria-label="${S.attach}" data-testid="file-input" multiple>
          <button type="button" class="icon-btn attach" aria-label="${S.attach}" data-testid="attach">${icon('attach')}</button>
          <button type="submit" class="icon-btn send" aria-label="${S.send}" data-testid="send">${icon('send')}</button>
        </form>
      </section>
      <button type="button" class="launcher" aria-label="${S.launcher}" aria-expanded="false"
              aria-controls="sc-window" data-testid="launcher">${icon('chat')}</button>
    </div>`;

  const $ = (sel) => shadow.querySelector(sel);
  const ui = {
    root: $('.root'), win: $('.window'), launcher: $('.launcher'), close: $('.close'),
    status: $('.status'), log: $('.log'), empty: $('.empty'), typing: $('.typing'),
    notice: $('.notice'), form: $('form'), text: $('textarea'), file: $('input[type=file]'),
    attach: $('.attach'),
  };

  // ---------------------------------------------------------------- messages

  // Every message shown, sorted by time and then arrival. A record is
  // found by its server id or by the client_id its writer gave it; the two
  // indexes are what keep a message from ever being shown twice.
  const records = [];
  const byId = new Map();
  const byClient = new Map();
  let arrivals = 0;
  const RECEIPT_LEVEL = { delivered: 1, read: 2 };
  const receiptsSent = new Map(); // agent message id -> highest receipt level sent or known

  function addRecord(fields) {
    const rec = { id: null, clientId: null, text: '', attachments: [], at: Date.now(), state: null,
      error: null, progress: null, seq: ++arrivals, el: null, ...fields };
    records.push(rec);
    if (rec.id) byId.set(rec.id, rec);
    if (rec.clientId) byClient.set(rec.clientId, rec);
    return rec;
  }

  function dropRecord(rec) {
    records.splice(records.indexOf(rec), 1);
    if (rec.id && byId.get(rec.id) === rec) byId.delete(rec.id);
    if (rec.clientId && byClient.get(rec.clientId) === rec) byClient.delete(rec.clientId);
    rec.el?.remove();
  }

  // Merges a server Message: an update replaces the copy with the same id,
  // and a copy of the visitor's own message replaces its local bubble.
  function mergeServer(m) {
    if (!m || typeof m.id !== 'string') return null;
    const sameId = byId.get(m.id);
    const sameClient = m.client_id ? byClient.get(m.client_id) : undefined;
    if (sameId && sameClient && sameId !== sameClient) dropRecord(sameClient);
    const rec = sameId || sameClient || addRecord({});
    rec.id = m.id;
    byId.set(rec.id, rec);
    if (m.client_id) { rec.clientId = m.client_id; byClient.set(m.client_id, rec); }
    rec.from = m.from === 'agent' || m.from === 'bot' ? m.from : 'visitor';
    rec.text = typeof m.text === 'string' ? m.text : '';
    rec.attachments = Array.isArray(m.attachments) ? m.attachments : [];
    rec.at = Date.parse(m.at) || rec.at;
    rec.error = null;
    rec.progress = null;
    if (rec.from === 'visitor') {
      // Recorded (it has an id): delivered; "read" should the gateway ever report it.
      rec.state = m.state === 'read' ? 'read' : 'delivered';
      if (m.client_id) outboxRemove(m.client_id);
    } else {
      rec.state = m.state || 'sent';
      const level = RECEIPT_LEVEL[rec.state] || 0;
      if (level > (receiptsSent.get(rec.id) || 0)) receiptsSent.set(rec.id, level);
    }
    return rec;
  }

  function renderAll() {
    records.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
    let added = false;
    records.forEach((rec, i) => {
      if (!rec.el) { rec.el = buildMessage(); added = true; }
      updateMessage(rec);
      // Move a node only when it is out of place, so the live region does
      // not announce old messages again.
      const at = ui.log.children[i + 1]; // child 0 is the "empty" hint
      if (at !== rec.el) ui.log.insertBefore(rec.el, at || null);
    });
    ui.empty.hidden = records.length > 0;
    if (added && (nearBottom || records[records.length - 1].from === 'visitor')) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function buildMessage() {
    const el = document.createElement('div');
    el.className = 'msg';
    el.dataset.testid = 'message';
    el.innerHTML = '<span class="sr who"></span><div class="bubble"><span class="text"></span>'
      + '<ul class="atts"></ul></div><div class="meta"></div><div class="error"></div>';
    return el;
  }

  function updateMessage(rec) {
    const el = rec.el;
    el.dataset.from = rec.from;
    el.dataset.state = rec.state || '';
    el.dataset.id = rec.id || '';
    el.dataset.clientId = rec.clientId || '';
    el.querySelector('.who').textContent = S[rec.from === 'visitor' ? 'you' : rec.from];
    el.querySelector('.text').textContent = rec.text;
    const atts = el.querySelector('.atts');
    atts.replaceChildren(...rec.attachments.map((a) => {
      const item = document.createElement('li');
      item.dataset.testid = 'attachment';
      item.innerHTML = icon('attach');
      const size = Number.isFinite(a.size) ? ` (${humanSize(a.size)})` : '';
      item.append(`${a.name || S.attachment}${size}`);
      return item;
    }));
    atts.hidden = rec.attachments.length === 0;
    const meta = el.querySelector('.meta');
    meta.textContent = clock.format(rec.at);
    const [iconName, label] = stateLabel(rec);
    if (label) {
      meta.insertAdjacentHTML('beforeend', ` \u00b7 ${iconName ? icon(iconName) : ''}`);
      meta.append(label);
    }
    const error = el.querySelector('.error');
    error.textContent = rec.error || '';
    error.hidden = !rec.error;
  }

  // [icon, text] telling the state of the visitor's own message; agent
  // messages show none (their state is for the agent's side).
  function stateLabel(rec) {
    if (rec.from !== 'visitor') return [null, ''];
    switch (rec.state) {
      case 'uploading': return [null, t('uploading', { p: rec.progress ?? 0 })];
      case 'pending': return ['clock', S.sending];
      case 'accepted': return ['check', S.accepted];
      case 'delivered': return ['checks', S.delivered];
      case 'read': return ['checks', S.read];
      case 'failed': return ['alert', S.failed];
      default: return [null, ''];
    }
  }

  function announce(text) {
    ui.notice.textContent = text;
    clearTimeout(announce.timer);
    announce.timer = setTimeout(() => { ui.notice.textContent = ''; }, 8000);
  }

  // ------------------------------------------------------------ transport

  let visitorToken = store.get(KEY_VISITOR);
  let identityToken = DATA.identityToken || null;
  let mode = DATA.transport === 'sse' ? 'sse' : 'ws';
  let ws = null;
  let es = null;
  let online = false;
  let everOnline = false;
  let attempt = 0; // consecutive failed connection attempts, for the backoff
  let retryTimer = 0;
  let generation = 0; // bumped by every connect(): stale callbacks see a newer one
  const wsFailures = []; // times of recent WebSocket failures
  const inflight = new Set(); // client_ids with a fallback POST under way
  let outboxTimer = 0; // a resend of the outbox is scheduled
  let outboxAttempt = 0; // resends since the last acceptance, for the backoff

  function backoff(n) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** n);
    return base * (0.75 + Math.random() * 0.25); // jitter: reconnecting visitors do not stampede
  }

  function setStatus(state) {
    if (ui.status.dataset.state === state) return;
    ui.status.dataset.state = state;
    ui.status.textContent = S[state];
  }

  async function openSession() {
    const res = await fetch(`${BASE}/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ visitor_token: visitorToken }),
    });
    if (!res.ok) throw new Error(`session: HTTP ${res.status}`);
    const body = await res.json();
    visitorToken = body.visitor_token;
    store.set(KEY_VISITOR, visitorToken);
  }

  function teardown() {
    if (ws) { const old = ws; ws = null; old.onclose = old.onmessage = old.onopen = null; old.close(); }
    if (es) { const old = es; es = null; old.close(); }
    online = false;
  }

  // (Re)connects: a fresh session (the stored token is renewed or replaced)
  // and then the WebSocket or the SSE fallback.
  async function connect() {
    const gen = ++generation;
    clearTimeout(retryTimer);
    retryTimer = 0;
    teardown();
    setStatus(everOnline ? 'reconnecting' : 'connecting');
    try {
      await openSession();
    } catch {
      if (gen === generation) scheduleReconnect();
      return;
    }
    if (gen !== generation) return;
    if (mode === 'ws') openSocket(); else openEvents();
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    retryTimer = setTimeout(() => { retryTimer = 0; connect(); }, backoff(attempt));
    attempt += 1;
  }

  function wentOnline() {
    attempt = 0;
    online = true;
    everOnline = true;
    setStatus('online');
    flushOutbox();
    flushReceipts();
  }

  function wentOffline() {
    online = false;
    setStatus('reconnecting');
    showAgentTyping(false);
    scheduleReconnect();
  }

  function openSocket() {
    const url = `${BASE.replace(/^http/, 'ws')}/socket?visitor_token=${encodeURIComponent(visitorToken)}`;
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = wentOnline;
    sock.onmessage = (e) => handleFrameText(e.data);
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      const now = Date.now();
      wsFailures.push(now);
      while (wsFailures.length && now - wsFailures[0] > WS_FAIL_WINDOW_MS) wsFailures.shift();
      if (wsFailures.length >= WS_FAILS_FOR_FALLBACK) mode = 'sse'; // for the rest of this page
      wentOffline();
    };
  }

  function openEvents() {
    const src = new EventSource(`${BASE}/events?visitor_token=${encodeURIComponent(visitorToken)}`);
    es = src;
    src.onopen = () => { if (es === src) wentOnline(); };
    const onFrame = (e) => { if (es === src) handleFrameText(e.data); };
    // The SSE event name is the frame's type; "message" also covers unnamed events.
    for (const name of ['message', 'history', 'accepted', 'rejected', 'typing']) src.addEventListener(name, onFrame);
    src.addEventListener('error', (e) => {
      if (es !== src) return;
      if (typeof e.data === 'string') { handleFrameText(e.data); return; } // an "error" frame
      // The connection failed: reconnect with our own backoff (and a fresh
      // session, in case the visitor token was the problem).
      src.close();
      es = null;
      wentOffline();
    });
  }

  function handleFrameText(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    switch (frame.type) {
      case 'history':
        (frame.messages || []).forEach(mergeServer);
        break;
      case 'message': {
        const rec = mergeServer(frame.message);
        if (rec && rec.from !== 'visitor') showAgentTyping(false);
        break;
      }
      case 'accepted': accepted(frame.client_id); break;
      case 'rejected': rejected(frame.client_id, frame.reason); break;
      case 'typing': showAgentTyping(frame.active === true); return;
      case 'error':
        // The gateway could not handle a frame for now (it names no
        // client_id): whatever is unaccepted is sent again after a backoff.
        console.warn('silta-chat:', frame.reason);
        retryOutboxLater();
        return;
      default: return;
    }
    renderAll();
    flushReceipts();
  }

  function accepted(clientId) {
    outboxRemove(clientId);
    outboxAttempt = 0;
    const rec = byClient.get(clientId);
    if (rec && rec.state === 'pending') { rec.state = 'accepted'; renderAll(); }
  }

  function rejected(clientId, reason) {
    outboxRemove(clientId);
    const rec = byClient.get(clientId);
    if (!rec || rec.id) return; // already recorded: a late duplicate's rejection changes nothing
    rec.state = 'failed';
    rec.error = reason || null;
    announce(reason ? `${S.failed}: ${reason}` : S.failed);
    renderAll();
  }

  // Sends a frame over the open socket, or POSTs it in the fallback.
  // Resolves to the fetch Response in the fallback, true/false otherwise.
  function sendFrame(frame, path) {
    if (mode === 'ws') {
      if (!online || !ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
      ws.send(JSON.stringify(frame));
      return Promise.resolve(true);
    }
    if (!online) return Promise.resolve(false);
    return fetch(`${BASE}${path}`, {
      method: 'POST', body: JSON.stringify(frame),
      headers: { 'Content-Type': 'application/json', Authorization: `Visitor ${visitorToken}` },
    });
  }

  // ---- outbox

  function flushOutbox() {
    for (const item of outbox.values()) sendMessage(item);
  }

  async function sendMessage(item) {
    if (inflight.has(item.client_id)) return;
    const frame = { type: 'message', client_id: item.client_id, text: item.text,
      attachments: item.attachments || [] };
    if (identityToken) frame.identity_token = identityToken;
    if (mode === 'ws') { await sendFrame(frame); return; } // the answer comes as a frame
    inflight.add(item.client_id);
    try {
      const tokenUsed = visitorToken;
      const res = await sendFrame(frame, '/messages');
      if (res === false) return; // offline: flushed again on reconnect
      if (res.ok) {
        accepted(item.client_id);
      } else if (res.status === 401 && !(await visitorTokenRenewed(tokenUsed))) {
        rejected(item.client_id, await errorReason(res));
      } else if (res.status >= 400 && res.status < 500 && res.status !== 401) {
        rejected(item.client_id, await errorReason(res));
      } else {
        retryOutboxLater(); // 5xx, or a renewed visitor token
      }
    } catch {
      retryOutboxLater(); // network error
    } finally {
      inflight.delete(item.client_id);
    }
  }

  // A 401 in the fallback is either the visitor token (then a new session
  // fixes it and the message is retried) or the message's identity token
  // (then it is rejected). A session call tells the two apart.
  async function visitorTokenRenewed(tokenUsed) {
    try { await openSession(); } catch { return true; } // cannot tell now: retry later
    return visitorToken !== tokenUsed;
  }

  async function errorReason(res) {
    try { return (await res.json()).error || `HTTP ${res.status}`; } catch { return `HTTP ${res.status}`; }
  }

  function retryOutboxLater() {
    if (outboxTimer) return;
    outboxTimer = setTimeout(() => { outboxTimer = 0; flushOutbox(); }, backoff(outboxAttempt));
    outboxAttempt += 1;
  }

  function submitText() {
    const text = ui.text.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) { announce(S.tooLong); return; }
    ui.text.value = '';
    autoGrow();
    stopTyping();
    queueMessage(newClientId(), text, []);
  }

  // crypto.randomUUID exists only in secure contexts (https, localhost);
  // a site on plain http gets the same v4 UUID built by hand.
  function newClientId() {
    if (crypto.randomUUID) return `c-${crypto.randomUUID()}`;
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `c-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Saves the message before any network I/O, shows it, then sends it.
  function queueMessage(clientId, text, attachments) {
    const item = { client_id: clientId, text, attachments, at: new Date().toISOString() };
    outboxAdd(item);
    const rec = byClient.get(clientId) || addRecord({ clientId, from: 'visitor' });
    Object.assign(rec, { text, attachments, state: 'pending', error: null, progress: null });
    renderAll();
    sendMessage(item);
  }

  // Messages left unaccepted by an earlier page load are shown at once.
  for (const item of outbox.values()) {
    addRecord({ clientId: item.client_id, from: 'visitor', text: item.text || '',
      attachments: item.attachments || [], at: Date.parse(item.at) || Date.now(), state: 'pending' });
  }

  // ---- receipts

  function canBeRead() { return isOpen() && document.visibilityState === 'visible'; }

  async function flushReceipts() {
    if (!online) return;
    const readable = canBeRead();
    for (const state of ['delivered', 'read']) {
      const level = RECEIPT_LEVEL[state];
      if (level === 2 && !readable) break;
      const due = records.filter((r) => r.id && r.from !== 'visitor' && (receiptsSent.get(r.id) || 0) < level)
        .map((r) => r.id);
      for (let i = 0; i < due.length; i += RECEIPT_BATCH) {
        const ids = due.slice(i, i + RECEIPT_BATCH);
        const before = new Map(ids.map((id) => [id, receiptsSent.get(id) || 0]));
        ids.forEach((id) => receiptsSent.set(id, level)); // claimed now, so no concurrent resend
        let ok = false;
        try {
          const res = await sendFrame({ type: 'receipt', ids, state }, '/receipts');
          ok = res === true || (res && res.ok);
        } catch { /* network error: undone below */ }
        if (!ok) before.forEach((old, id) => { if (receiptsSent.get(id) === level) receiptsSent.set(id, old); });
      }
    }
  }

  // ---- typing

  let typingSentAt = 0;
  let typingActive = false;
  let typingIdleTimer = 0;

  function onVisitorInput() {
    autoGrow();
    if (!ui.text.value.trim()) { stopTyping(); return; }
    const now = Date.now();
    if (now - typingSentAt >= TYPING_EVERY_MS) {
      typingSentAt = now;
      typingActive = true;
      sendFrame({ type: 'typing', active: true }, '/typing').catch(() => {});
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (!typingActive) return;
    typingActive = false;
    typingSentAt = 0;
    sendFrame({ type: 'typing', active: false }, '/typing').catch(() => {});
  }

  let agentTypingTimer = 0;
  function showAgentTyping(active) {
    clearTimeout(agentTypingTimer);
    ui.typing.hidden = !active;
    if (active) agentTypingTimer = setTimeout(() => { ui.typing.hidden = true; }, AGENT_TYPING_MS);
  }

  // ---- uploads

  async function upload(file) {
    const clientId = newClientId();
    const rec = addRecord({ clientId, from: 'visitor', state: 'uploading', progress: 0,
      attachments: [{ name: file.name, media_type: file.type, size: file.size }] });
    renderAll();
    try {
      if (!visitorToken) await openSession();
      let res = await postFile(file, rec);
      if (res.status === 401) { await openSession(); res = await postFile(file, rec); }
      if (res.status === 200 || res.status === 201) {
        const blob = JSON.parse(res.body);
        queueMessage(clientId, '', [{ blob: blob.blob, name: file.name,
          media_type: blob.media_type || file.type || 'application/octet-stream', size: blob.size ?? file.size }]);
        return;
      }
      uploadFailed(rec, S[{ 413: 'tooLarge', 415: 'badType' }[res.status] || 'uploadFailed']);
    } catch {
      uploadFailed(rec, S.uploadFailed); // network error or a malformed answer
    }
  }

  function uploadFailed(rec, reason) {
    rec.state = 'failed';
    rec.error = reason;
    announce(`${S.failed}: ${reason}`);
    renderAll();
  }

  // XMLHttpRequest rather than fetch: it reports upload progress.
  function postFile(file, rec) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${BASE}/uploads`);
      xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      xhr.setRequestHeader('Authorization', `Visitor ${visitorToken}`);
      xhr.setRequestHeader('X-Filename', encodeURIComponent(file.name));
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        rec.progress = Math.round((e.loaded / e.total) * 100);
        updateMessage(rec);
      };
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
      xhr.onerror = () => reject(new Error('network error'));
      xhr.send(file);
    });
  }

  // ------------------------------------------------------------ UI wiring

  function isOpen() { return !ui.win.hidden; }

  function open() {
    if (isOpen()) return;
    ui.win.hidden = false;
    ui.root.dataset.open = 'true';
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.text.focus();
    flushReceipts();
  }

  function close() {
    if (!isOpen()) return;
    ui.win.hidden = true;
    ui.root.dataset.open = 'false';
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcher.focus();
  }

  function autoGrow() {
    ui.text.style.height = 'auto';
    ui.text.style.height = `${Math.min(ui.text.scrollHeight + 2, 120)}px`;
  }

  ui.launcher.addEventListener('click', () => (isOpen() ? close() : open()));
  ui.close.addEventListener('click', close);
  ui.win.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(); }
  });
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitText(); });
  ui.text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitText(); }
  });
  ui.text.addEventListener('input', onVisitorInput);
  ui.attach.addEventListener('click', () => ui.file.click());
  ui.file.addEventListener('change', () => {
    [...ui.file.files].forEach(upload);
    ui.file.value = '';
  });
  document.addEventListener('visibilitychange', flushReceipts);
  window.addEventListener('online', () => {
    if (online) return;
    attempt = 0;
    connect();
  });

  window.SiltaChat = {
    open,
    close,
    // A signed-in user's identity token: kept in memory only, attached to
    // every message from now on; reconnects so the session starts afresh.
    identify(token) {
      identityToken = token || null;
      connect();
    },
  };

  function start() {
    document.body.appendChild(host);
    renderAll();
    if (DATA.open === 'true') open();
    connect();
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
