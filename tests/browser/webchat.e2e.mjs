// End-to-end test of the web chat widget in a real browser against a
// running Silta (started by core/cli/tests/webchat.rs, which sets the
// environment below). Exits 0 when every scenario passes; on the first
// failure prints what failed and exits 1.
//
//   SILTA_URL          Silta's base URL, e.g. http://127.0.0.1:41234
//   SILTA_TOKEN        API bearer token
//   WEBCHAT_ACCOUNT    the webchat channel account, e.g. "site"
//   PAGE_PORT          port for the host page; Silta allows http://127.0.0.1:PAGE_PORT
//   IDENTITY_SECRET    HS256 secret of the site's identity tokens
//   EXISTING_PARTY_ID  a party that holds EXISTING_EMAIL as an attested identity
//   EXISTING_EMAIL
//   ARTIFACTS_DIR      screenshots go here (default: a folder under the OS temp dir)
//   CHROMIUM           browser binary (default /usr/bin/chromium)
//
// The page loads the widget through a TCP proxy that this script runs, so
// that it can cut the browser's network to Silta while the API stays up.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`FAIL setup: the environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const SILTA_URL = required('SILTA_URL').replace(/\/$/, '');
const SILTA_TOKEN = required('SILTA_TOKEN');
const ACCOUNT = required('WEBCHAT_ACCOUNT');
const PAGE_PORT = Number(required('PAGE_PORT'));
const IDENTITY_SECRET = required('IDENTITY_SECRET');
const EXISTING_PARTY_ID = required('EXISTING_PARTY_ID');
const EXISTING_EMAIL = required('EXISTING_EMAIL');
const ARTIFACTS_DIR = process.env.ARTIFACTS_DIR || path.join(os.tmpdir(), 'silta-webchat-e2e');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PAGE_ORIGIN = `http://127.0.0.1:${PAGE_PORT}`;
const RUN = crypto.randomBytes(3).toString('hex'); // makes this run's message texts unique

// ------------------------------------------------------------------ helpers

/** Polls `probe` until it returns a truthy value (which it returns). */
async function waitFor(what, probe, { timeout = 10_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function api(method, urlPath, body) {
  const res = await fetch(`${SILTA_URL}${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${SILTA_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

async function apiOk(method, urlPath, body, expected = 200) {
  const res = await api(method, urlPath, body);
  check(res.status === expected, `${method} ${urlPath} answered ${res.status}, expected ${expected}: ${res.text}`);
  return res.json;
}

// A part is {"text": "..."} / {"attachment": {...}} (Silta's model); the
// {"type": "text", ...} spelling is accepted too.
const partText = (part) => (typeof part.text === 'string' ? part.text : '');
const partAttachment = (part) => part.attachment || (part.type === 'attachment' ? part : null);
const itemText = (item) => (item.parts || []).map(partText).join('');

/** Every interaction of every party, as timeline items, each once (a
 * merged party's timeline may repeat its survivor's items). */
async function allInteractions() {
  const parties = await apiOk('GET', '/v1/parties?limit=500');
  const items = new Map();
  for (const party of parties.items) {
    const timeline = await apiOk('GET', `/v1/parties/${encodeURIComponent(party.id)}/timeline?limit=500`);
    for (const item of timeline.items) items.set(item.id, item);
  }
  return [...items.values()];
}

async function interactionsWith(predicate) {
  return (await allInteractions()).filter(predicate);
}

function jwt(claims, secret) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signing = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${signing}.${crypto.createHmac('sha256', secret).update(signing).digest('base64url')}`;
}

// ------------------------------------------------------- proxy and page

/** A TCP proxy to Silta whose traffic can be cut and restored. */
async function startProxy() {
  const target = new URL(SILTA_URL);
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    /** Drops every connection and refuses new ones (the port is closed). */
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
    restore() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function escapeAttr(value) {
  return String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The shop page: its query string becomes the widget's data- attributes. */
function startPageServer(proxyPort) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, PAGE_ORIGIN);
    if (url.pathname !== '/') { res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404); res.end(); return; }
    const attrs = [...url.searchParams].map(([k, v]) => ` data-${k}="${escapeAttr(v)}"`).join('');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kahvila Kuppi – shop</title>
<style>
  /* Deliberately hostile site CSS: the widget's Shadow DOM must not be affected. */
  body { font-family: Georgia, serif; margin: 0; background: #fbf7f0; color: #3b2f24; }
  button { background: hotpink !important; border: 4px dashed lime !important; font-size: 30px; }
  textarea, li, ol { font-size: 30px; color: red; }
  header { background: #6b4226; color: #fff; padding: 16px 24px; }
  main { padding: 24px; display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 16px; }
  .product { background: #fff; border-radius: 8px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
</style></head>
<body>
  <header><h1>Kahvila Kuppi</h1></header>
  <main>
    <div class="product"><h2>Espresso</h2><p>3,20 €</p><button>Osta</button></div>
    <div class="product"><h2>Cappuccino</h2><p>4,10 €</p><button>Osta</button></div>
    <div class="product"><h2>Korvapuusti</h2><p>3,50 €</p><button>Osta</button></div>
  </main>
  <script src="http://127.0.0.1:${proxyPort}/v1/webchat/${encodeURIComponent(ACCOUNT)}/widget.js"${attrs} async></script>
</body></html>`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PAGE_PORT, '127.0.0.1', () => resolve(server));
  });
}

// ----------------------------------------------------------- widget views

const messages = (page) => page.locator('[data-testid="message"]');

/** The widget's messages as plain objects. */
function readMessages(page) {
  return messages(page).evaluateAll((els) => els.map((el) => ({
    from: el.dataset.from, state: el.dataset.state, id: el.dataset.id, clientId: el.dataset.clientId,
    text: el.querySelector('.text')?.textContent ?? '', full: el.textContent,
  })));
}

async function messageWithText(page, text) {
  return (await readMessages(page)).filter((m) => m.text === text);
}

async function expectOnline(page) {
  await waitFor('the widget to be connected', async () =>
    (await page.locator('[data-testid="connection-status"]').getAttribute('data-state')) === 'online');
}

async function expectNoDuplicates(page) {
  const list = await readMessages(page);
  const ids = list.map((m) => m.id).filter(Boolean);
  check(new Set(ids).size === ids.length, `duplicate message ids in the widget: ${JSON.stringify(list)}`);
  const clientIds = list.map((m) => m.clientId).filter(Boolean);
  check(new Set(clientIds).size === clientIds.length, `duplicate client ids in the widget: ${JSON.stringify(list)}`);
  return list;
}

async function sendWithKeyboard(page, text) {
  await page.getByTestId('composer').focus();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/** Replies through the API and returns {id, latencyMs} once the widget shows it. */
async function replyAndSee(page, conversationId, text) {
  const queued = await apiOk('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/messages`, { text }, 202);
  const t0 = Date.now();
  await page.locator('[data-testid="message"][data-from="agent"]', { hasText: text }).first()
    .waitFor({ state: 'visible', timeout: 10_000 });
  return { id: queued.interaction_id, latencyMs: Date.now() - t0 };
}

async function findInbound(text) {
  return waitFor(`the visitor's message "${text}" in a party timeline`, async () =>
    (await interactionsWith((i) => itemText(i) === text))[0], { timeout: 15_000, interval: 250 });
}

// ---------------------------------------------------------------- scenarios

async function main() {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const cleanups = [];
  let current = 'setup';
  let page = null;
  const consoleLines = [];
  try {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const pageServer = await startPageServer(proxy.port);
    cleanups.push(() => new Promise((r) => { pageServer.closeAllConnections(); pageServer.close(() => r()); }));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    cleanups.push(() => browser.close());

    const shop = (params) => `${PAGE_ORIGIN}/?${new URLSearchParams(params)}`;
    async function newPage(params) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const p = await context.newPage();
      p.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
      p.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
      await p.goto(shop(params));
      return p;
    }
    const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`) });
    const passed = (name, detail = '') => console.log(`ok - ${name}${detail ? ` (${detail})` : ''}`);

    // a) Anonymous visitor in Finnish: strings, roles, keyboard, reply latency, receipts.
    current = 'a-anonymous-fi';
    page = await newPage({ lang: 'fi', open: 'true' });
    const dialog = page.getByRole('dialog', { name: 'Asiakaspalvelu' });
    await dialog.waitFor({ state: 'visible' });
    await expectOnline(page);
    check(await page.getByTestId('window').evaluate((el) => el.closest('[lang]').lang) === 'fi', 'widget root lang is not fi');
    const log = page.getByRole('log');
    check(await log.getAttribute('aria-live') === 'polite', 'the message list is not aria-live="polite"');
    const composer = page.getByRole('textbox', { name: 'Viesti' });
    check(await composer.getAttribute('placeholder') === 'Kirjoita viesti…', 'Finnish placeholder missing');
    await page.getByRole('button', { name: 'Lähetä' }).waitFor();
    await page.getByRole('button', { name: 'Liitä tiedosto' }).waitFor();
    await page.getByRole('button', { name: 'Sulje chat' }).waitFor();
    const launcher = page.getByTestId('launcher');
    check(await launcher.getAttribute('aria-expanded') === 'true', 'launcher aria-expanded is not true when open');
    check(await page.evaluate(() => document.querySelector('[data-silta-chat]').shadowRoot.activeElement?.dataset.testid)
      === 'composer', 'opening did not move focus to the textarea');
    // Escape closes and gives focus back to the launcher; the launcher reopens.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    check(await launcher.getAttribute('aria-expanded') === 'false', 'launcher aria-expanded is not false when closed');
    check(await page.evaluate(() => document.querySelector('[data-silta-chat]').shadowRoot.activeElement?.dataset.testid)
      === 'launcher', 'Escape did not return focus to the launcher');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'visible' });

    const helloText = `Hei! Onko teillä gluteenitonta pullaa? ${RUN}`;
    await sendWithKeyboard(page, helloText);
    check((await composer.inputValue()) === '', 'Enter did not clear the composer');
    await waitFor('the first message to be shown as delivered', async () =>
      (await messageWithText(page, helloText))[0]?.state === 'delivered');
    const hello = await findInbound(helloText);
    check(hello.direction === 'inbound', `the visitor's message has direction ${hello.direction}`);
    const conversationId = hello.conversation_id;
    const replyText = `Hei! Kyllä on, tervetuloa. ${RUN}`;
    const reply = await replyAndSee(page, conversationId, replyText);
    console.log(`   reply latency (API 202 → visible in the widget): ${reply.latencyMs} ms`);
    check(reply.latencyMs < 5000, `the reply took ${reply.latencyMs} ms to appear`);
    const states = await waitFor('a delivered/read receipt on the agent message', async () => {
      const interaction = await apiOk('GET', `/v1/interactions/${encodeURIComponent(reply.id)}`);
      const seen = (interaction.delivery || []).map((d) => d.state);
      return seen.some((s) => s === 'delivered' || s === 'read') && seen;
    });
    await shot(current);
    await page.setViewportSize({ width: 320, height: 640 });
    await shot(`${current}-320px`);
    await page.setViewportSize({ width: 1280, height: 800 });
    passed(current, `delivery: ${states.join(' → ')}`);

    // b) The agent's typing indicator.
    current = 'b-typing';
    const typingPath = `/v1/conversations/${encodeURIComponent(conversationId)}/typing`;
    const started = await api('POST', typingPath, { active: true });
    check(started.status >= 200 && started.status < 300, `POST ${typingPath} answered ${started.status}: ${started.text}`);
    const typing = page.getByTestId('typing');
    await typing.waitFor({ state: 'visible', timeout: 5000 });
    check((await typing.textContent()).includes('Asiakaspalvelu kirjoittaa…'), 'typing indicator is not in Finnish');
    await shot(current);
    await api('POST', typingPath, { active: false });
    await typing.waitFor({ state: 'hidden', timeout: 8000 }); // active:false, or the 6 s timeout
    passed(current);

    // c) A reload shows the history, once.
    current = 'c-reload';
    const beforeReload = (await expectNoDuplicates(page)).map((m) => m.id);
    await page.reload();
    await expectOnline(page);
    await waitFor('both messages after the reload', async () =>
      (await messageWithText(page, helloText)).length === 1 && (await messageWithText(page, replyText)).length === 1);
    await new Promise((r) => setTimeout(r, 500)); // give a late duplicate the chance to show up
    let list = await expectNoDuplicates(page);
    check(JSON.stringify(list.map((m) => m.id)) === JSON.stringify(beforeReload),
      `the reload changed the messages: before ${JSON.stringify(beforeReload)}, after ${JSON.stringify(list)}`);
    await shot(current);
    passed(current);

    // d) Network loss: a message written offline and a reply sent meanwhile arrive once each.
    current = 'd-network-loss';
    proxy.cut();
    const cutAt = Date.now();
    await waitFor('the widget to notice the outage', async () =>
      (await page.getByTestId('connection-status').getAttribute('data-state')) === 'reconnecting', { timeout: 5000 });
    const statusText = await page.getByTestId('connection-status').textContent();
    check(statusText.includes('Yhteys katkesi'), `the outage is not announced in Finnish: ${statusText}`);
    const offlineText = `Kirjoitettu ilman yhteyttä ${RUN}`;
    await sendWithKeyboard(page, offlineText);
    check((await messageWithText(page, offlineText))[0]?.state === 'pending', 'the offline message is not shown as pending');
    const outageReplyText = `Vastaus katkon aikana ${RUN}`;
    const outageReply = await apiOk('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
      { text: outageReplyText }, 202);
    await shot(`${current}-offline`);
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - cutAt))));
    await proxy.restore();
    await expectOnline(page);
    await waitFor('the offline message to be delivered', async () =>
      (await messageWithText(page, offlineText))[0]?.state === 'delivered', { timeout: 20_000 });
    await page.locator('[data-testid="message"][data-from="agent"]', { hasText: outageReplyText }).waitFor({ timeout: 10_000 });
    await findInbound(offlineText);
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would be recorded by now
    const recorded = await interactionsWith((i) => itemText(i) === offlineText);
    check(recorded.length === 1, `the offline message was recorded ${recorded.length} times`);
    list = await expectNoDuplicates(page);
    check((await messageWithText(page, offlineText)).length === 1, 'the offline message is shown more than once');
    check((await messageWithText(page, outageReplyText)).length === 1, 'the outage reply is shown more than once');
    check(list.length === beforeReload.length + 2,
      `expected ${beforeReload.length + 2} messages, found ${list.length}: ${JSON.stringify(list)}`);
    check(list.some((m) => m.id === outageReply.interaction_id), 'the outage reply is not shown under its id');
    await shot(current);
    passed(current);

    // e) A file upload becomes an attachment.
    current = 'e-upload';
    const fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'silta-webchat-'));
    cleanups.push(async () => fs.rmSync(fixtures, { recursive: true, force: true }));
    const file = path.join(fixtures, 'kuitti.txt');
    fs.writeFileSync(file, `Kuitti ${RUN}\nEspresso 3,20 €\n`);
    await page.getByTestId('file-input').setInputFiles(file);
    const attachmentMessage = page.locator('[data-testid="message"][data-from="visitor"]', { hasText: 'kuitti.txt' });
    await waitFor('the attachment message to be delivered', async () =>
      (await attachmentMessage.getAttribute('data-state')) === 'delivered', { timeout: 15_000 });
    const withAttachment = await waitFor('the attachment in a party timeline', async () =>
      (await interactionsWith((i) => i.conversation_id === conversationId
        && (i.parts || []).some((p) => {
          const a = partAttachment(p);
          return a && (a.filename || a.name) === 'kuitti.txt';
        })))[0], { timeout: 15_000, interval: 250 });
    check(withAttachment.direction === 'inbound', 'the attachment message is not inbound');
    await shot(current);
    passed(current);
    await page.context().close();

    // f) The SSE fallback, in Swedish.
    current = 'f-sse-sv';
    page = await newPage({ lang: 'sv', open: 'true', transport: 'sse' });
    let sockets = 0;
    page.on('websocket', () => { sockets += 1; });
    await page.getByRole('dialog', { name: 'Kundtjänst' }).waitFor();
    await expectOnline(page);
    const svComposer = page.getByRole('textbox', { name: 'Meddelande' });
    check(await svComposer.getAttribute('placeholder') === 'Skriv ett meddelande…', 'Swedish placeholder missing');
    await page.getByRole('button', { name: 'Skicka' }).waitFor();
    await page.getByRole('button', { name: 'Bifoga fil' }).waitFor();
    const svText = `Hej! Har ni öppet på söndag? ${RUN}`;
    await sendWithKeyboard(page, svText);
    const svInbound = await findInbound(svText);
    await waitFor('the Swedish message to be delivered', async () =>
      (await messageWithText(page, svText))[0]?.state === 'delivered');
    const svReply = await replyAndSee(page, svInbound.conversation_id, `Ja, klockan 10–16. ${RUN}`);
    check(sockets === 0, `the SSE transport opened ${sockets} WebSocket(s)`);
    check((await page.getByTestId('message').filter({ hasText: 'Levererat' }).count()) >= 1, 'no "Levererat" state shown');
    await expectNoDuplicates(page);
    await shot(current);
    passed(current, `reply latency ${svReply.latencyMs} ms`);
    await page.context().close();

    // g) A signed-in visitor lands in the existing party; a forged token is rejected.
    current = 'g-identity';
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: `shop-user-${RUN}`, email: EXISTING_EMAIL, name: 'Maija Meikäläinen', exp: now + 600 };
    page = await newPage({ lang: 'en', open: 'true', 'identity-token': jwt(claims, IDENTITY_SECRET) });
    await page.getByRole('dialog', { name: 'Customer service' }).waitFor();
    await expectOnline(page);
    const signedText = `Where is my order? ${RUN}`;
    await sendWithKeyboard(page, signedText);
    const signed = await findInbound(signedText);
    check(signed.party_id === EXISTING_PARTY_ID,
      `the signed-in visitor's message is in party ${signed.party_id}, expected ${EXISTING_PARTY_ID}`);
    await waitFor('the signed-in message to be delivered', async () =>
      (await messageWithText(page, signedText))[0]?.state === 'delivered');
    await shot(current);
    await page.context().close();

    current = 'g-identity-forged';
    page = await newPage({ lang: 'en', open: 'true', 'identity-token': jwt(claims, `${IDENTITY_SECRET}-wrong`) });
    await expectOnline(page);
    const forgedText = `Forged identity ${RUN}`;
    await sendWithKeyboard(page, forgedText);
    await waitFor('the forged message to be shown as failed', async () =>
      (await messageWithText(page, forgedText))[0]?.state === 'failed');
    const failed = page.locator('[data-testid="message"][data-state="failed"]');
    check((await failed.textContent()).includes('The message could not be sent'), 'the failure is not explained');
    await new Promise((r) => setTimeout(r, 1500));
    const forged = await interactionsWith((i) => itemText(i) === forgedText);
    check(forged.length === 0, `the forged message was recorded ${forged.length} time(s)`);
    await shot(current);
    passed('g-identity', 'signed token joins the existing party; forged token rejected');

    current = 'done';
  } catch (err) {
    console.error(`FAIL ${current}: ${err.message}`);
    if (page && !page.isClosed()) {
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, `FAILED-${current}.png`) }).catch(() => {});
    }
    if (consoleLines.length) console.error(`browser console:\n  ${consoleLines.slice(-30).join('\n  ')}`);
    process.exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

// A hung run fails with a message rather than waiting for the caller's timeout.
const watchdog = setTimeout(() => {
  console.error('FAIL: the run took more than 300 s');
  process.exit(1);
}, 300_000);
watchdog.unref();
await main();
process.exit(process.exitCode ?? 0);
