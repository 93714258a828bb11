// The page of `peer ui` on a generated network of 100 000 files, in Debian's headless Chromium: how long
// until the first screen lists the network (each load in a fresh browser context, so nothing is cached),
// and how long a search takes from pressing Enter until the rows are on the page. Yardsticks, same run:
// the same first screen saved as static HTML and served by a bare node:http server (the fastest that
// screen can be in this browser), and the tracker's own list and search requests on an open session;
// between the two, the page's HTTP request alone (fetch and JSON, nothing drawn).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, peerShares } from './catalog.mjs';
import { PEER_BIN, percentile, REPO, startProcess } from './harness.mjs';
import { registeredNetwork } from './network.mjs';
import { QUERIES } from './search.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UI_LIST_PAGE = 100; // packages/peer/src/face/web/ui-server.ts

// Runs in every page before its own script: notes when the file list first says how many rows it shows.
function noteWhenListed() {
  new MutationObserver((_, observer) => {
    const note = document.getElementById('files-note');
    if (note && / shown/.test(note.textContent ?? '')) {
      window.listedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

// Runs in the page: types a query, submits the form as Enter does, and resolves when the rows are in.
function searchInPage(query) {
  const note = document.getElementById('files-note');
  return new Promise((resolve) => {
    const started = performance.now();
    new MutationObserver((_, observer) => {
      if (note.textContent === 'Loading…') return;
      observer.disconnect();
      resolve({ ms: performance.now() - started, rows: document.querySelectorAll('#files tbody tr').length, note: note.textContent });
    }).observe(note, { subtree: true, childList: true, characterData: true });
    document.getElementById('search').value = query;
    document.getElementById('search-form').requestSubmit();
  });
}

// Runs in the page: the same search's HTTP request alone, answer parsed, nothing drawn.
async function fetchInPage(query) {
  const started = performance.now();
  await (await fetch(`/api/search?q=${encodeURIComponent(query)}`)).json();
  return performance.now() - started;
}

const timesOf = (times) => ({ p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), max: Math.max(...times) });

async function loadTimes(browser, url, cookie, loads) {
  const times = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext();
    if (cookie) await context.addCookies([cookie]);
    await context.addInitScript(noteWhenListed);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.listedAt !== undefined);
    times.push(await page.evaluate(() => window.listedAt));
    await context.close();
  }
  return times;
}

export async function uiBench({ root, peers, perPeer, loads, samples, env }) {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` };
  const { chromium } = await import(pathToFileURL(join(REPO, 'node_modules/playwright-core/index.mjs')).href);
  const shares = [...peerShares({ albums: catalog(), peers, perPeer })];
  const rows = shares.reduce((sum, files) => sum + files.length, 0);
  const network = await registeredNetwork({ root, shares, env, db: join(root, 'ui-network.db') });
  const home = join(root, 'ui-home');
  mkdirSync(home, { recursive: true });
  const ui = startProcess(process.execPath, [PEER_BIN, 'ui', '--ui-port', '0', '--tracker', `127.0.0.1:${network.port}`, '--out', join(home, 'downloads')], { env, cwd: home });
  let browser;
  let yardstick;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    const url = (await ui.waitFor(/^peer ui: open /)).replace('peer ui: open ', '');
    const base = new URL(url).origin;
    const token = new URL(url).searchParams.get('token');
    const cookie = { name: 'p2p_ui', value: token, url: base, httpOnly: true, sameSite: 'Strict' };

    // One warm-up load (the peer's first tracker contact, Chromium's own first start of a renderer).
    await loadTimes(browser, base, cookie, 1);
    const pageLoad = await loadTimes(browser, base, cookie, loads);

    // The yardstick page: the first screen as rendered, without its script, from a bare server.
    const context = await browser.newContext();
    await context.addCookies([cookie]);
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForFunction(() => / shown/.test(document.getElementById('files-note').textContent));
    const snapshot = (await page.content()).replace(/<script[^>]*><\/script>/g, '');
    const css = readFileSync(join(REPO, 'packages/peer/web/app.css'));
    yardstick = createServer((req, res) => {
      const isCss = req.url === '/app.css';
      res.writeHead(isCss || req.url === '/' ? 200 : 404, { 'content-type': isCss ? 'text/css' : 'text/html; charset=utf-8' });
      res.end(isCss ? css : req.url === '/' ? snapshot : '');
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => yardstick.once('listening', resolve));
    await loadTimes(browser, `http://127.0.0.1:${yardstick.address().port}/`, undefined, 1);
    const staticLoad = await loadTimes(browser, `http://127.0.0.1:${yardstick.address().port}/`, undefined, loads);

    // Search round trips in the page, against the tracker's own search on an open session.
    const client = await network.client();
    const search = {};
    for (const [what, query] of Object.entries(QUERIES)) {
      const inPage = [];
      const http = [];
      const bare = [];
      let found;
      for (let i = 0; i < samples; i++) {
        found = await page.evaluate(searchInPage, query);
        inPage.push(found.ms);
        http.push(await page.evaluate(fetchInPage, query));
        const t = process.hrtime.bigint();
        await client.searchPage({ query }, null, UI_LIST_PAGE);
        bare.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      search[what] = { query, rowsShown: found.rows, page: timesOf(inPage), httpRequest: timesOf(http), trackerRequest: timesOf(bare) };
    }
    const list = [];
    for (let i = 0; i < samples; i++) {
      const t = process.hrtime.bigint();
      await client.listPage(null, UI_LIST_PAGE);
      list.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    await client.close();
    return { peers, filesPerPeer: perPeer, rows, loads, samples, pageLoadMs: timesOf(pageLoad), staticPageLoadMs: timesOf(staticLoad), trackerListPageMs: timesOf(list), searchMs: search, chromium: browser.version() };
  } finally {
    yardstick?.close();
    await browser?.close();
    await ui.stop();
    await network.close();
  }
}
