import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '@p2pservice/test-support/browser';
import { cleanEnv, forChild, killAll, PEER_BIN, removeDir, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { decodeModules } from '@p2pservice/test-support/qr';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * `peer ui` started with no tracker set and nothing found on the LAN (looking is off in tests: only the
 * namespace tests multicast): the page asks for a network, takes a join link, and then shows the network's
 * own link as a QR code for the next laptop or phone.
 */

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let ui: Running;
let uiHome: string;
let url: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  root = tempDir('p2p-ui-choose-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  const env = cleanEnv({ PEER_HOST: '127.0.0.1' });
  const share = join(root, 'alice');
  mkdirSync(share);
  writeFileSync(join(share, 'song.flac'), 'la la la\n');
  for (const [album, file, text] of [['Live', 'a.txt', 'live a\n'], ['Live', 'b.txt', 'live b, longer\n'], ['Studio', 'c.txt', 'studio c\n']]) {
    mkdirSync(join(share, 'albums', album!), { recursive: true });
    writeFileSync(join(share, 'albums', album!, file!), text!);
  }
  const sharer = start(PEER_BIN, ['share', share], { cwd: root, env: { ...env, PEER_TRACKER: tracker.address } });
  await sharer.waitFor(/^sharing /);
  uiHome = join(root, 'ui-home');
  mkdirSync(join(uiHome, 'mine'), { recursive: true });
  writeFileSync(join(uiHome, 'mine', 'mine.txt'), 'shared once a network is chosen\n');
  // A folder to share from the start, given relative: shared once the page has chosen a network.
  ui = start(PEER_BIN, ['ui', '--ui-port', '0', '--share', 'mine'], { cwd: uiHome, env });
  url = (await ui.waitFor(/^peer ui: open /)).replace('peer ui: open ', '');
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await browser?.close();
  await killAll();
  removeDir(root);
});

describe('peer ui without a tracker', () => {
  it('starts anyway, and says so in one line', () => {
    expect(ui.stderr).toContain('peer: no tracker is set, and looking for one on the LAN is off (PEER_DISCOVER=off): choose the network in the page');
  });

  it('asks for a network: what the LAN announces (looking is off here), or a join link', async () => {
    await page.goto(url);
    await page.locator('#choose').waitFor({ state: 'visible' });
    expect(await page.locator('#network').textContent()).toBe('No network chosen yet');
    expect(await page.locator('#lan-note').textContent()).toBe('Looking on the LAN is off (PEER_DISCOVER=off): paste a join link.');
    expect(await page.locator('#files-note').textContent()).toBe('Choose a network above to see what it shares.');
    // No empty table under it.
    expect(await page.locator('#files').isVisible()).toBe(false);
  });

  it('says what is wrong with a bad link, and stays ready for another', async () => {
    await page.fill('#link', `p2p://${tracker.address}`);
    await page.click('#link-form button');
    await page.locator('#link-note.error').waitFor();
    expect(await page.locator('#link-note').textContent()).toMatch(/^link "p2p:\/\/127\.0\.0\.1:\d+" names no tracker identity \(copy the whole link, with the part after #\)$/);
    expect(await page.locator('#choose').isVisible()).toBe(true);
  });

  it('joins with a link, lists the network, keeps the link for the next start, and shows it as a QR code', async () => {
    const link = `p2p://${tracker.pinned}`;
    await page.fill('#link', link);
    await page.click('#link-form button');
    await page.locator('#choose').waitFor({ state: 'hidden' });
    await page.locator('#files tbody td.name', { hasText: 'song.flac' }).waitFor();
    expect(await page.locator('#network').textContent()).toMatch(new RegExp(`^Tracker 127\\.0\\.0\\.1:${tracker.port}`));
    const kept = join(forChild(cleanEnv(), uiHome).XDG_CONFIG_HOME!, 'p2pservice', 'peer.env');
    // The folder given with --share is shared now, shown by its full path, and listed.
    await page.locator('#shares li strong', { hasText: join(uiHome, 'mine') }).waitFor();
    expect(await page.locator('#shares li strong').allTextContents()).toEqual([join(uiHome, 'mine')]);
    await eventually(async () => {
      await page.getByRole('button', { name: 'Show all' }).click();
      return (await page.locator('#files tbody td.name').allTextContents()).includes('mine.txt');
    });
    // Kept right after the first connection, as the page moves on.
    await eventually(() => existsSync(kept));
    expect(readFileSync(kept, 'utf8')).toContain(`PEER_TRACKER="${tracker.pinned}"`);
    expect(statSync(kept).mode & 0o777).toBe(0o600);

    await page.locator('#invite').waitFor({ state: 'visible' });
    expect(await page.locator('#invite-link').textContent()).toBe(link);
    // What a camera sees: the canvas's pixels, read back module by module.
    // (A string: the tests are compiled without the DOM's types.)
    const modules = await page.evaluate<boolean[][]>(`(() => {
      const canvas = document.querySelector('#invite-qr');
      const { data, width } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const cells = width / 4;
      return Array.from({ length: cells }, (_, y) => Array.from({ length: cells }, (_, x) => data[((y * 4 + 2) * width + x * 4 + 2) * 4] === 0));
    })()`);
    expect(decodeModules(modules)).toBe(link);
  });

  it('shows the network as folders: opens one, and downloads another whole, its structure kept', async () => {
    await page.getByRole('button', { name: 'Folders' }).click();
    await page.getByRole('button', { name: 'Open folder albums/' }).click();
    await page.locator('#files-note', { hasText: 'albums/: 2 folders, 0 files.' }).waitFor();
    expect(await page.locator('#crumbs').innerText()).toBe('The network › albums');
    expect(await page.locator('#files tbody tr').allInnerTexts()).toEqual([
      expect.stringMatching(/^Live\/\s+22 B\s+1\s+2 files\s+Download folder\s+Copy link$/),
      expect.stringMatching(/^Studio\/\s+9 B\s+1\s+1 file\s+Download folder\s+Copy link$/),
    ]);
    await page.getByRole('button', { name: /^Download the folder albums\/Live\/ \(2 files, 22 B\)$/ }).click();
    await eventually(() => existsSync(join(uiHome, 'Live', 'b.txt')) && existsSync(join(uiHome, 'Live', 'a.txt')));
    expect(readFileSync(join(uiHome, 'Live', 'a.txt'), 'utf8')).toBe('live a\n');
    expect(readFileSync(join(uiHome, 'Live', 'b.txt'), 'utf8')).toBe('live b, longer\n');
    // Each file of it is a download of its own in the list.
    await page.getByRole('listitem').filter({ hasText: 'b.txt' }).getByText(/^Saved to /).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ui-folders.png'), fullPage: true });
    // A link to a whole folder.
    await page.getByRole('button', { name: 'Copy a link to the folder albums/Studio/' }).click();
    await page.locator('#files-note', { hasText: 'link to albums/Studio/' }).waitFor();
    expect(await page.locator('#files-note').textContent()).toMatch(/\?folder=albums%2FStudio%2F&files=1&digest=[0-9a-f]{64}$/);
    await page.getByRole('button', { name: 'Open folder albums/Studio/' }).click();
    await page.locator('#files-note', { hasText: 'albums/Studio/: 0 folders, 1 file.' }).waitFor();
    expect(await page.locator('#files tbody td.name').allTextContents()).toEqual(['c.txt']);
    await page.getByRole('button', { name: 'Show all' }).click();
    await eventually(async () => (await page.locator('#crumbs').isHidden()) && (await page.locator('#files tbody td.name').allTextContents()).includes('albums/Studio/c.txt'));
  });

  it('gives a link to one file of the list ("Copy link"), the content link `peer get` takes', async () => {
    await page.getByRole('button', { name: /^Copy a link to song\.flac/ }).click();
    await page.locator('#files-note', { hasText: 'link to song.flac' }).waitFor();
    const shown = (await page.locator('#files-note').textContent())!;
    const link = /(p2p:\/\/\S+)$/.exec(shown)![1]!;
    expect(link).toMatch(new RegExp(`^p2p://127\\.0\\.0\\.1:${tracker.port}#${tracker.identity}\\?sha256=[0-9a-f]{64}&size=9&name=song\\.flac$`));
  });
});
