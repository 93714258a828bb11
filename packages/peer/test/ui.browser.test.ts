import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '@p2pservice/test-support/browser';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * `peer ui` as a person uses it: the built CLI serves the page, a real headless Chromium opens the
 * printed URL, finds files, downloads, cancels and resumes, adds a share; the bytes are checked on disk.
 */

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const HOSTILE = '<img src=x onerror="window.pwned=1">.txt';
const movie = randomBytes(3 * 1024 * 1024 + 7);
const big = randomBytes(12 * 1024 * 1024);

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let env: NodeJS.ProcessEnv;
let ui: Running;
let url: string;
let base: string;
let browser: Browser;
let page: Page;
let other: Server;
const out = () => join(root, 'downloads');

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(join(dir, file), data);
  return dir;
}

async function share(dir: string, extra: Record<string, string> = {}): Promise<void> {
  const sharer = start(PEER_BIN, ['share', dir], { cwd: root, env: { ...env, ...extra } });
  await sharer.waitFor(/^sharing /);
}

const rowNames = () => page.locator('#files tbody tr td.name').allTextContents();

beforeAll(async () => {
  root = tempDir('p2p-ui-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1', RECONNECT_BASE_DELAY: '0.1', RECONNECT_MAX_DELAY: '0.5' });
  // Alice uploads at 4 MB/s, so a download of big.iso lasts long enough to be cancelled.
  await share(folder('alice', { 'movie.mkv': movie, 'big.iso': big, [HOSTILE]: 'x', 'same.txt': 'from alice\n' }), { PEER_MAX_UPLOAD_RATE: '4M' });
  await share(folder('bob', { 'same.txt': 'from bob, longer\n' }));
  const uiHome = join(root, 'ui-home');
  mkdirSync(uiHome);
  ui = start(PEER_BIN, ['ui', '--ui-port', '0', '--out', out()], { cwd: uiHome, env });
  url = (await ui.waitFor(/^peer ui: open /)).replace('peer ui: open ', '');
  base = url.replace(/\/#token=.*$/, '');
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10_000);
  // Another site on this machine (another port: another origin) that tries to act through the UI.
  other = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form method="post" action="${base}/api/shares" enctype="text/plain"><input name='{"dir":"${root}/alice","x":"' value='"}'></form><script>document.forms[0].submit()</script>`);
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => other.once('listening', resolve));
});

afterAll(async () => {
  await browser?.close();
  other?.close();
  await killAll();
  removeDir(root);
});

describe('peer ui in a browser', () => {
  it('shows what the network shares on the first screen, names as text, and the contents of one name apart', async () => {
    await page.goto(url);
    expect(new URL(page.url()).hash).toBe(''); // the token left the address for the page's memory
    await eventually(async () => (await rowNames()).length === 5);
    expect(await rowNames()).toEqual(expect.arrayContaining(['movie.mkv', 'big.iso', HOSTILE, 'same.txt']));
    expect((await rowNames()).filter((n) => n === 'same.txt')).toHaveLength(2);
    expect(await page.locator('#files img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    // One header, said one way: the tracker, that it is reached, and who this peer is on it.
    await expect.poll(() => page.locator('#network').textContent()).toMatch(/^Tracker 127\.0\.0\.1:\d+ · connected · you are [A-Z2-7]{7}$/);
    // The page has its icon (no 404 in the console).
    const icon = await page.request.get(`${base}/favicon.svg`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toBe('image/svg+xml');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-network.png'), fullPage: true });
  });

  it('searches, downloads with the keyboard, shows progress to the end, and saves the exact bytes', async () => {
    await page.getByRole('searchbox', { name: 'Search' }).fill('movie');
    await page.keyboard.press('Enter');
    await eventually(async () => JSON.stringify(await rowNames()) === '["movie.mkv"]');
    // The words matched are marked, as the CLI paints them.
    expect(await page.locator('#files td.name mark').allTextContents()).toEqual(['movie']);
    await page.getByRole('button', { name: /^Download movie\.mkv / }).focus();
    await page.keyboard.press('Enter');
    const item = page.getByRole('listitem').filter({ hasText: 'movie.mkv' });
    await item.getByText(/^Saved to /).waitFor();
    const bar = item.getByRole('progressbar', { name: 'Progress of movie.mkv' });
    expect(await bar.getAttribute('value')).toBe(await bar.getAttribute('max'));
    const saved = join(out(), 'movie.mkv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(await item.getByText(/^Saved to /).textContent()).toMatch(new RegExp(`^Saved to ${saved} \\(3\\.0 MiB\\) from 127\\.0\\.0\\.1:\\d+$`));
    expect(sha256(readFileSync(join(out(), 'movie.mkv')))).toBe(sha256(movie));
    // Its peers, with what each sent: here the one holder, all of it.
    const peers = item.getByRole('table', { name: 'Peers of movie.mkv' });
    const rows = await peers.getByRole('row').allInnerTexts();
    expect(rows[0]).toMatch(/^Peer\s+Received from it\s+Sent to it$/);
    expect(rows.slice(1)).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+\s+3\.0 MiB\s+0 B$/)]);
    // Its row no longer offers a Download: it is saved.
    expect(await page.getByRole('button', { name: 'movie.mkv is saved already' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-download.png'), fullPage: true });
  });

  it("browses what a download's holder shares, as its own folders, and back to the network", async () => {
    const item = page.getByRole('listitem').filter({ hasText: 'movie.mkv' });
    const holder = /from (127\.0\.0\.1:\d+)$/.exec((await item.getByText(/^Saved to /).textContent())!)![1]!;
    await item.getByRole('button', { name: `Browse what ${holder} shares` }).click();
    // Alice's files only (Bob's same.txt is another content): the Folders view, named after her.
    await eventually(async () => (await page.locator('#crumbs').textContent())?.includes('Shared by ') === true);
    expect(await page.locator('#crumbs').textContent()).toMatch(/^The network › Shared by [A-Z2-7]{7}$/);
    expect((await rowNames()).sort()).toEqual(['big.iso', 'movie.mkv', HOSTILE, 'same.txt'].sort());
    expect(await page.locator('#files-note').textContent()).toMatch(/^Shared by [A-Z2-7]{7}: 0 folders, 4 files\.$/);
    await page.locator('#crumbs').getByRole('button', { name: 'The network' }).click();
    await eventually(async () => (await rowNames()).filter((n) => n === 'same.txt').length === 2);
  });

  it('browses a person typed in: the start of an identity in any case; nobody online by that name is said, with how to name one', async () => {
    const item = page.getByRole('listitem').filter({ hasText: 'movie.mkv' });
    const holder = /from (127\.0\.0\.1:\d+)$/.exec((await item.getByText(/^Saved to /).textContent())!)![1]!;
    await item.getByRole('button', { name: `Browse what ${holder} shares` }).click();
    await eventually(async () => /Shared by [A-Z2-7]{7}$/.test((await page.locator('#crumbs').textContent()) ?? ''));
    const start = /Shared by ([A-Z2-7]{7})$/.exec((await page.locator('#crumbs').textContent())!)![1]!;
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await page.locator('#crumbs').isHidden()) && (await rowNames()).length > 4);
    const whose = page.getByRole('textbox', { name: 'Whose files' });
    await whose.fill(start.toLowerCase());
    await page.getByRole('button', { name: 'Browse their files' }).click();
    await eventually(async () => (await page.locator('#crumbs').textContent()) === `The network › Shared by ${start}`);
    // By identity, every share of that identity: both sharers here run from one folder, so one identity
    // (HOST:PORT above named Alice's share alone), and Bob's same.txt is another content.
    expect((await rowNames()).sort()).toEqual(['big.iso', 'movie.mkv', HOSTILE, 'same.txt', 'same.txt'].sort());
    await whose.fill('nobody-here');
    await whose.press('Enter');
    const note = page.locator('#files-note.error');
    await note.waitFor();
    // The tracker's answer, as `peer browse --holder` says it.
    expect(await note.textContent()).toMatch(
      /^127\.0\.0\.1:\d+: no online holder is "nobody-here"; name it HOST:PORT as a download showed it, by its identity \(or its first 7 characters\), or by its member name$/,
    );
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await page.locator('#crumbs').isHidden()) && (await rowNames()).length > 4);
  });

  it('shows who has a file under its row, each to browse, and hides them again', async () => {
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await page.locator('#crumbs').isHidden()) && (await rowNames()).length > 4);
    const who = page.getByRole('button', { name: /^Who has movie\.mkv / });
    await who.click();
    const holders = page.getByRole('list', { name: 'Holders of movie.mkv' });
    await holders.waitFor();
    expect(await holders.getByRole('listitem').allInnerTexts()).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+ \([A-Z2-7]{7}\) Browse$/)]);
    expect(await who.getAttribute('aria-expanded')).toBe('true');
    await who.click();
    await holders.waitFor({ state: 'detached' });
    expect(await who.getAttribute('aria-expanded')).toBe('false');
    await who.click();
    const start = /\(([A-Z2-7]{7})\)/.exec(await holders.getByRole('listitem').innerText())![1]!;
    await holders.getByRole('button', { name: `Browse what ${start} shares` }).click();
    await eventually(async () => (await page.locator('#crumbs').textContent()) === `The network › Shared by ${start}`);
    expect((await rowNames()).sort()).toEqual(['big.iso', 'movie.mkv', HOSTILE, 'same.txt', 'same.txt'].sort());
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await page.locator('#crumbs').isHidden()) && (await rowNames()).length > 4);
  });

  it('says "Nothing found." with no empty table under it', async () => {
    await page.getByRole('searchbox', { name: 'Search' }).fill('nothingmatchesthis');
    await page.keyboard.press('Enter');
    await page.getByText('Nothing found.').waitFor();
    expect(await page.locator('#files').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await rowNames()).length > 0);
    expect(await page.locator('#files').isVisible()).toBe(true);
  });

  it('cancels a download, keeping what it has, and resumes it to the exact bytes', async () => {
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByRole('button', { name: /^Download big\.iso / }).click();
    const item = page.getByRole('listitem').filter({ hasText: 'big.iso' }).first();
    await item.getByText(/ of 12 MiB, /).waitFor({ timeout: 5_000 }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; the item shows: ${await item.innerText().catch(() => '?')}; downloads: ${await page.locator('#downloads').innerText()}`);
    });
    await item.getByRole('button', { name: 'Cancel the download of big.iso' }).click();
    // In words, as the CLI says sizes: no byte counts, no path of a part file.
    await item.getByText(/^Stopped at \d+(\.\d)? [KM]iB of 12 MiB\. Resume picks up from there\.$/).waitFor();
    expect(await item.innerText()).not.toMatch(/\.part|bytes/);
    expect(await page.getByRole('listitem').filter({ hasText: 'big.iso' }).count()).toBe(1);
    await item.getByRole('button', { name: 'Resume the download of big.iso' }).click();
    await page.getByRole('listitem').filter({ hasText: 'big.iso' }).getByText(/^Saved to /).waitFor({ timeout: 15_000 });
    // The resumed download took the stopped one's place.
    expect(await page.getByRole('listitem').filter({ hasText: 'big.iso' }).count()).toBe(1);
    expect(sha256(readFileSync(join(out(), 'big.iso')))).toBe(sha256(big));
  });

  it('adds a share from the page, which another peer then lists', async () => {
    const dir = folder('carol', { 'from-the-page.txt': 'shared from a browser\n' });
    await page.getByRole('textbox', { name: 'Folder to share' }).fill(dir);
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByText(`Sharing 1 file from ${dir}.`).waitFor();
    await page.getByRole('listitem').filter({ hasText: dir }).getByText(/^1 file, 22 B, port \d+, shared$/).waitFor();
    // Every share by its full path, the ones given as a relative --share too.
    for (const shown of await page.locator('#shares li strong').allTextContents()) expect(shown.startsWith('/')).toBe(true);
    const listed = await run(PEER_BIN, ['list', '--json'], { cwd: root, env });
    expect(JSON.parse(listed.stdout).map((f: { name: string }) => f.name)).toContain('from-the-page.txt');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-shares.png'), fullPage: true });
  });

  it('refuses a visitor without the token, and a change sent from another site', async () => {
    const stranger = await browser.newPage();
    await stranger.goto(base);
    await stranger.getByText('Open the address that `peer ui` printed: it carries the access token.').waitFor();
    expect(await stranger.evaluate(async () => (await fetch('/api/state')).status)).toBe(401);
    await stranger.close();
    // Same browser, the page open: the other site's form POST is refused, and nothing is shared.
    const sharesBefore = await page.getByRole('list', { name: 'Shared folders' }).getByRole('listitem').count();
    const attacked = await page.context().newPage();
    const refused = attacked.waitForResponse((r) => r.url() === `${base}/api/shares`);
    await attacked.goto(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
    expect((await refused).status()).toBe(401);
    await attacked.close();
    await page.reload();
    await page.getByRole('list', { name: 'Shared folders' }).getByRole('listitem').first().waitFor();
    expect(await page.getByRole('list', { name: 'Shared folders' }).getByRole('listitem').count()).toBe(sharesBefore);
  });

  it('never lets its token reach another port of the machine (cookies are not kept apart by port)', async () => {
    const token = url.replace(/^.*#token=/, '');
    const seen: string[] = [];
    const recorder = createServer((req, res) => {
      seen.push(JSON.stringify([req.url, req.headers]));
      res.end('<p>another program on this machine</p>');
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => recorder.once('listening', resolve));
    try {
      // The page is open and working (it used its token for the list and its events).
      await expect.poll(() => page.locator('#network').textContent()).toMatch(/^Tracker /);
      const visit = await page.context().newPage();
      await visit.goto(`http://127.0.0.1:${(recorder.address() as { port: number }).port}/`);
      const readable = await visit.evaluate<string>('`${document.cookie} ${JSON.stringify({ ...sessionStorage })} ${JSON.stringify({ ...localStorage })}`');
      await visit.close();
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.join('\n')).not.toContain(token);
      expect(readable).not.toContain(token);
      expect(await page.evaluate<string>('document.cookie')).toBe('');
    } finally {
      recorder.close();
    }
  });

  it('is still right after the tracker restarts', async () => {
    // A second page whose first state is held back until the tracker event has come: the header must still
    // name the tracker once the state arrives (an event before the state once left it without the address).
    const late = await (await browser.newContext()).newPage();
    let releaseState!: () => void;
    const stateHeld = new Promise<void>((resolve) => (releaseState = resolve));
    await late.route('**/api/state', async (route) => {
      const response = await route.fetch();
      await stateHeld;
      await route.fulfill({ response });
    });
    const eventsOpen = late.waitForResponse((response) => response.url().endsWith('/api/events'));
    await late.goto(url);
    await eventsOpen;
    await tracker.stop('SIGTERM');
    // The page hears of it from the share it added (pushed, not polled).
    await expect.poll(() => page.locator('#network').textContent(), { timeout: 10_000 }).toMatch(/^Tracker 127\.0\.0\.1:\d+ · lost: .*; retrying in /);
    await expect.poll(() => late.locator('#network').textContent(), { timeout: 10_000 }).toMatch(/ · lost: /);
    releaseState();
    // Read in one evaluation, once the state is shown (its folder), before a later event may redraw it.
    type Page = { document: { querySelector(selector: string): { textContent: string | null } } };
    const header = () => late.evaluate(() => {
      const { document } = globalThis as unknown as Page;
      return document.querySelector('#out-dir').textContent ? document.querySelector('#network').textContent : null;
    });
    let shown: string | null = null;
    await eventually(async () => (shown = await header()) !== null);
    expect(shown).toMatch(/^Tracker 127\.0\.0\.1:\d+ · lost: .*; retrying in /);
    await late.close();
    tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db'), '--port', String(tracker.port)]);
    await eventually(async () => {
      await page.getByRole('button', { name: 'Show all' }).click();
      await expect.poll(() => page.locator('#files-note').textContent()).not.toBe('Loading…');
      return (await rowNames()).includes('movie.mkv') && (await rowNames()).includes('from-the-page.txt');
    }, 15_000);
    await expect.poll(() => page.locator('#network').textContent(), { timeout: 10_000 }).toMatch(/connected/);
  });

  it('applies only the latest answer: a search answered late does not replace a newer one', async () => {
    // The real answer to "movie" is held back until the newer search for "same" is on the screen.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let delivered!: Promise<void>;
    await page.route('**/api/search?q=movie', (route) => {
      delivered = (async () => {
        const response = await route.fetch();
        await held;
        await route.fulfill({ response });
      })();
      return delivered;
    });
    const box = page.getByRole('searchbox', { name: 'Search' });
    await box.fill('movie');
    await box.press('Enter');
    await eventually(async () => delivered !== undefined);
    await box.fill('same');
    await box.press('Enter');
    await eventually(async () => JSON.stringify(await rowNames()) === '["same.txt","same.txt"]');
    release();
    await delivered;
    await page.unroute('**/api/search?q=movie');
    // The page has had the late answer; it still shows the newer one.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    expect(await rowNames()).toEqual(['same.txt', 'same.txt']);
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await rowNames()).includes('movie.mkv'));
  });

  it('numbers its events, and says in the state the last number given before it was read', async () => {
    const token = new URL(url).hash.replace('#token=', '');
    const headers = { 'x-p2p-token': token };
    const stream = await fetch(`${base}/api/events`, { headers: { ...headers, accept: 'text/event-stream' } });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    const ids: number[] = [];
    const reading = (async () => {
      let text = '';
      while (ids.length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        ids.splice(0, ids.length, ...[...text.matchAll(/^id: ?(\d+)$/gm)].map((m) => Number(m[1])));
      }
    })();
    const started = await fetch(`${base}/api/downloads`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'movie.mkv' }) });
    expect(started.status).toBe(202);
    await reading;
    await reader.cancel();
    expect(ids[1]).toBe(ids[0]! + 1);
    const state = (await (await fetch(`${base}/api/state`, { headers })).json()) as { eventId: number };
    expect(state.eventId).toBeGreaterThanOrEqual(ids[1]!);
  });

  it('plays a file while it downloads: HTTP Range, the wanted part first, only verified bytes', async () => {
    // 16 MiB at 2 MB/s: in order, its last MiB would come after about eight seconds.
    const film = randomBytes(16 * 1024 * 1024);
    await share(folder('studio', { 'film.mp4': film }), { PEER_MAX_UPLOAD_RATE: '2M' });
    await page.getByRole('searchbox', { name: 'Search' }).fill('film');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Play film.mp4 while it downloads' }).click();
    const player = page.getByLabel('Player of film.mp4');
    await player.waitFor({ state: 'attached' });
    const src = (await player.getAttribute('src'))!;
    expect(src).toMatch(/^\/media\/[A-Za-z0-9_-]{22}$/);
    // What a player asks when it seeks near the end, from inside the page.
    const start = 15 * 1024 * 1024 + 12345;
    const answer = await page.evaluate<{ status: number; range: string | null; type: string | null; bytes: number[] }>(`(async () => {
      const response = await fetch(${JSON.stringify(src)}, { headers: { range: 'bytes=${start}-${start + 999}' } });
      return { status: response.status, range: response.headers.get('content-range'), type: response.headers.get('content-type'), bytes: [...new Uint8Array(await response.arrayBuffer())] };
    })()`);
    // The part asked for came first: the download is not done when it arrives.
    const item = page.getByRole('listitem').filter({ hasText: 'film.mp4' }).first();
    expect(await item.getByText(/^Saved to /).count()).toBe(0);
    expect(answer.status).toBe(206);
    expect(answer.type).toBe('video/mp4');
    expect(answer.range).toBe(`bytes ${start}-${start + 999}/${film.length}`);
    expect(Buffer.from(answer.bytes).equals(film.subarray(start, start + 1000))).toBe(true);
    // Anything else: a key nobody was given, a range that is not one.
    expect(await page.evaluate<number>(`fetch('/media/AAAAAAAAAAAAAAAAAAAAAA').then((r) => r.status)`)).toBe(404);
    expect(await page.evaluate<number>(`fetch(${JSON.stringify(src)}, { headers: { range: 'bytes=5-1,7-9' } }).then((r) => r.status)`)).toBe(416);
    // And it is saved like any download, byte for byte.
    await item.getByText(/^Saved to /).waitFor({ timeout: 30_000 });
    expect(sha256(readFileSync(join(out(), 'film.mp4')))).toBe(sha256(film));
  });

  it('names every control, in the accessibility tree', async () => {
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await rowNames()).includes('big.iso'));
    const tree = await page.locator('body').ariaSnapshot();
    expect(tree).toContain('- searchbox "Search"');
    expect(tree).toContain('- textbox "Folder to share"');
    expect(tree).toMatch(/- button "Download big\.iso \(12 MiB, [0-9a-f]{12}\)"|- button "big\.iso is saved already"/);
    expect(tree).toMatch(/- button "Copy a link to movie\.mkv \([0-9a-f]{12}\)"/);
    expect(tree).toContain('- button "Play movie.mkv while it downloads"');
    // No button, box or bar without a name.
    expect(tree).not.toMatch(/- (button|textbox|searchbox|progressbar)(:|\s*$)/m);
  });
});
