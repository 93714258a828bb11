// The page of `peer ui`: plain DOM, no framework. Every value from the network goes in with textContent,
// never as markup. Every request carries the access token in a header; state arrives as Server-Sent Events.

import { formatBytes as bytesInWords, formatDuration } from './units.js';

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = 'p2p-ui-token';

/**
 * The access token, from the address `peer ui` printed (after `#`, which the browser sends nowhere), kept
 * for reloads in this tab's sessionStorage (this origin's alone: another port cannot read it), and then
 * taken out of the address bar.
 */
function takeToken() {
  const given = new URLSearchParams(location.hash.slice(1)).get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

const token = takeToken();
const withToken = (headers = {}) => ({ ...headers, 'x-p2p-token': token });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let nextPage = null;
const contentOf = new Map(); // download id -> { name, sha256 }, to resume it
const downloads = new Map(); // id -> latest state
const replaced = new Set(); // ids of downloads a resumed one took the place of
// The number of the last event applied, of each download's, and of the tracker line's: a state read
// before them is older than what they showed.
let lastEvent = 0;
const downloadEvent = new Map();
let networkEvent = 0;
// Answers are applied only if they answer the latest question: a slow search must not overwrite a newer one.
let filesAsked = 0;
let stateAsked = 0;
// Whether the peer has a tracker: a `peer ui` started where none (or several) answered on the LAN asks.
let hasTracker = true;
let inviteShown = false;
// The header says one thing the same way whichever told it last: the tracker, whether it is reached, and
// who you are on it.
const header = { tracker: '', connected: true, lost: '', you: '' };
function showHeader() {
  if (!hasTracker) return void ($('#network').textContent = 'No network chosen yet');
  const state = header.lost ? `lost: ${header.lost}` : header.connected ? 'connected' : 'connecting…';
  $('#network').textContent = `Tracker ${header.tracker} · ${state}${header.you ? ` · you are ${header.you}` : ''}`;
}
// The contents saved by this page's downloads, by sha256: their rows say so instead of offering a Download.
const saved = new Set();

/** A size in the CLI's words (units.js is the CLI's own module), or ? when not known yet. */
const formatBytes = (n) => (n === undefined || n === null ? '?' : bytesInWords(n));

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? { headers: withToken() } : { method: 'POST', headers: withToken({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.hint ? `${data.error} (${data.hint})` : data.error ?? `HTTP ${response.status}`);
  return data;
}

/** A name with what the search words matched marked (text nodes and <mark>, never markup from the network). */
function nameCell(file) {
  const cell = element('td', undefined, { class: 'name', title: file.name });
  if (file.shownName !== undefined) return (cell.append(file.shownName), cell);
  let at = 0;
  for (const [start, end] of file.matched ?? []) {
    cell.append(file.name.slice(at, start), element('mark', file.name.slice(start, end)));
    at = end;
  }
  cell.append(file.name.slice(at));
  return cell;
}

function downloadButton(file) {
  if (saved.has(file.sha256)) return element('button', 'Saved', { type: 'button', disabled: '', 'data-sha256': file.sha256, 'aria-label': `${file.name} is saved already` });
  const button = element('button', 'Download', { type: 'button', 'data-sha256': file.sha256, 'aria-label': `Download ${file.name} (${formatBytes(file.size)}, ${file.sha256.slice(0, 12)})` });
  button.addEventListener('click', () => startDownload(file.name, file.sha256));
  return button;
}

/** Marks the rows of a content this page has saved, as soon as it is. */
function markSaved(sha256) {
  if (saved.has(sha256)) return;
  saved.add(sha256);
  for (const button of document.querySelectorAll(`#files button[data-sha256="${sha256}"]`)) {
    const name = button.closest('tr')?.querySelector('td.name')?.textContent ?? 'this file';
    button.replaceWith(element('button', 'Saved', { type: 'button', disabled: '', 'data-sha256': sha256, 'aria-label': `${name} is saved already` }));
  }
}

function fileRow(file) {
  const row = element('tr');
  row.append(nameCell(file), element('td', formatBytes(file.size), { class: 'num' }), element('td', file.firewalled ? `${file.holders} (${file.firewalled} firewalled)` : String(file.holders), { class: 'num' }), element('td', file.sha256.slice(0, 12), { title: file.sha256 }));
  const cell = element('td');
  const button = downloadButton(file);
  const copy = element('button', 'Copy link', { type: 'button', class: 'secondary', 'aria-label': `Copy a link to ${file.name} (${file.sha256.slice(0, 12)})` });
  copy.addEventListener('click', () => copyLink(file));
  const who = element('button', 'Who has it', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `Who has ${file.name} (${file.sha256.slice(0, 12)})` });
  who.addEventListener('click', () => toggleHolders(row, who, file));
  cell.append(button, ' ', copy, ' ', who);
  if (PLAYABLE.test(file.name)) {
    const play = element('button', 'Play', { type: 'button', class: 'secondary', 'aria-label': `Play ${file.name} while it downloads` });
    play.addEventListener('click', () => playFile(file));
    cell.append(' ', play);
  }
  row.append(cell);
  return row;
}

/**
 * Shows, in a row under the file's, who holds it now (as the tracker lists them), each with a button
 * that browses what that person shares; a second click hides them again.
 */
async function toggleHolders(row, button, file) {
  const shown = row.nextElementSibling?.classList.contains('holders') ? row.nextElementSibling : null;
  if (shown) {
    shown.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const under = element('tr', undefined, { class: 'holders' });
  const cell = element('td', 'Asking the tracker…', { colspan: '5' });
  under.append(cell);
  row.after(under);
  button.setAttribute('aria-expanded', 'true');
  try {
    const { holders } = await api(`/api/holders?name=${encodeURIComponent(file.name)}&sha256=${file.sha256}`);
    const list = element('ul', undefined, { 'aria-label': `Holders of ${file.name}` });
    for (const h of holders) {
      const kind = [h.firewalled && 'firewalled', h.partial && 'still downloading it'].filter(Boolean).join(', ');
      const item = element('li', `${h.address} (${h.id.slice(0, 7)})${kind ? `, ${kind}` : ''} `);
      const look = element('button', 'Browse', { type: 'button', class: 'secondary', 'aria-label': `Browse what ${h.id.slice(0, 7)} shares` });
      look.addEventListener('click', () => browse('', { asked: h.id }));
      item.append(look);
      list.append(item);
    }
    cell.replaceChildren(holders.length === 0 ? 'Nobody online holds it any more.' : list);
  } catch (error) {
    cell.textContent = error.message;
    cell.classList.add('error');
  }
}

/**
 * Asks `load` for rows and, if it is still the latest question (a slow answer must not replace a newer
 * one), lets `render` fill the table and say what it shows; a table left empty says "Nothing found.".
 */
async function askForRows(load, render) {
  if (!hasTracker) return;
  const asked = ++filesAsked;
  const note = $('#files-note');
  note.textContent = 'Loading…';
  note.classList.remove('error');
  try {
    const answer = await load();
    if (asked !== filesAsked) return;
    const body = $('#files tbody');
    const said = render(answer, body);
    $('#files').hidden = body.children.length === 0;
    note.textContent = body.children.length === 0 ? 'Nothing found.' : said;
  } catch (error) {
    if (asked !== filesAsked) return;
    note.textContent = error.message;
    note.classList.add('error');
  }
}

function showFiles(load, append) {
  return askForRows(load, (page, body) => {
    if (!append) body.replaceChildren();
    for (const file of page.files) body.append(fileRow(file));
    nextPage = page.next ?? null;
    $('#more').hidden = nextPage === null;
    if (!inviteShown) showInvite();
    const count = body.children.length;
    return `${count} file${count === 1 ? '' : 's'} shown${nextPage ? ', more below' : ''}.`;
  });
}

/** The folder shown in the Folders view; null while the list is flat (all files, or a search). */
let browsing = null;
/** Whose files the Folders view shows: null for the network, else a holder as the tracker named it. */
let browsingHolder = null;

function folderRow(folder, path) {
  const row = element('tr', undefined, { class: 'folder' });
  const open = element('button', folder.name, { type: 'button', class: 'link', 'aria-label': `Open folder ${path}${folder.name}` });
  open.addEventListener('click', () => browse(path + folder.name, browsingHolder));
  const name = element('td', undefined, { class: 'name' });
  name.append(open);
  const get = element('button', 'Download folder', { type: 'button', 'aria-label': `Download the folder ${path}${folder.name} (${folder.files} file${folder.files === 1 ? '' : 's'}, ${formatBytes(folder.bytes)})` });
  get.addEventListener('click', () => downloadFolder(path + folder.name));
  const copy = element('button', 'Copy link', { type: 'button', class: 'secondary', 'aria-label': `Copy a link to the folder ${path}${folder.name}` });
  copy.addEventListener('click', () => copyLink({ name: path + folder.name, folder: true }));
  const action = element('td');
  action.append(get, ' ', copy);
  // Holders: the most peers holding any one of its files; then what it holds, where a file shows its hash.
  row.append(name, element('td', formatBytes(folder.bytes), { class: 'num' }), element('td', String(folder.holders), { class: 'num' }), element('td', `${folder.files} file${folder.files === 1 ? '' : 's'}`), action);
  return row;
}

/** The path as buttons, each opening that folder: the network › Music › The Beatles. */
function showCrumbs(path) {
  const nav = $('#crumbs');
  nav.hidden = path === null;
  nav.replaceChildren();
  if (path === null) return;
  const parts = path.split('/').filter(Boolean);
  const holder = browsingHolder;
  const top = element('button', holder ? `Shared by ${holderWords(holder)}` : 'The network', { type: 'button', class: 'link' });
  top.addEventListener('click', () => browse('', holder));
  if (holder) {
    const network = element('button', 'The network', { type: 'button', class: 'link' });
    network.addEventListener('click', () => browse(''));
    nav.append(network, ' › ');
  }
  nav.append(top);
  parts.forEach((part, n) => {
    const to = `${parts.slice(0, n + 1).join('/')}/`;
    const crumb = element('button', part, { type: 'button', class: 'link', ...(n === parts.length - 1 && { 'aria-current': 'location' }) });
    crumb.addEventListener('click', () => browse(to, holder));
    nav.append(' › ', crumb);
  });
}

/** A holder in a few words, as the CLI says it: its member name and identity's start, or the start alone. */
const holderWords = ({ holder, member }) => (member ? `${member} (${holder.slice(0, 7)})` : holder.slice(0, 7));

/**
 * The Folders view: the folders under `path` (sizes summed) to open or download whole, then its files;
 * the network's, or one holder's own (`holder`: as a download named it, or as the tracker did).
 */
function browse(path, holder = null) {
  const whose = holder ? `&holder=${encodeURIComponent(holder.asked)}` : '';
  return askForRows(
    () => api(`/api/browse?path=${encodeURIComponent(path)}${whose}`),
    (level, body) => {
      browsing = level.path;
      browsingHolder = level.holder ?? null;
      showCrumbs(level.path);
      body.replaceChildren(...level.folders.map((f) => folderRow(f, level.path)), ...level.files.map((f) => fileRow({ ...f, shownName: f.name.slice(level.path.length) })));
      nextPage = null;
      $('#more').hidden = true;
      const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
      const where = level.holder ? `Shared by ${holderWords(level.holder)}${level.path ? `: ${level.path}` : ''}` : level.path || 'The network';
      return `${where}: ${count(level.folders.length, 'folder')}, ${count(level.files.length, 'file')}.`;
    },
  );
}

async function downloadFolder(path) {
  const note = $('#files-note');
  try {
    await api('/api/folder-downloads', { path });
    note.classList.remove('error');
    note.textContent = `Downloading the folder ${path}: each file shows below as it starts.`;
  } catch (error) {
    note.textContent = `Cannot download ${path}: ${error.message}`;
    note.classList.add('error');
  }
}

const listFirst = () => {
  browsing = null;
  browsingHolder = null;
  showCrumbs(null);
  return showFiles(() => api('/api/files'), false);
};
const listMore = () => showFiles(() => api(`/api/files?after=${encodeURIComponent(JSON.stringify(nextPage))}`), true);
const search = (q) => {
  browsing = null;
  browsingHolder = null;
  showCrumbs(null);
  return showFiles(async () => ({ ...(await api(`/api/search?q=${encodeURIComponent(q)}`)), next: null }), false);
};

/** Names a browser may play (the page offers Play on those; the codec inside decides in the end). */
const PLAYABLE = /\.(mp4|m4v|webm|mkv|mov|mp3|m4a|ogg|oga|opus|flac|wav)$/i;

/** Plays a file while it downloads: the player asks for ranges, and the pieces it wants come first. */
async function playFile(file) {
  const note = $('#player-note');
  $('#player').hidden = false;
  try {
    const { url } = await api('/api/play', { name: file.name, sha256: file.sha256, size: file.size });
    const audio = /\.(mp3|m4a|ogg|oga|opus|flac|wav)$/i.test(file.name);
    const media = element(audio ? 'audio' : 'video', undefined, { controls: '', src: url, 'aria-label': `Player of ${file.name}` });
    note.textContent = `${file.name}: it plays as its pieces arrive (and is saved like any download).`;
    note.classList.remove('error');
    $('#player').querySelector('audio, video')?.remove();
    $('#player').append(media);
  } catch (error) {
    note.textContent = `Cannot play ${file.name}: ${error.message}`;
    note.classList.add('error');
  }
}

/** A link naming exactly this content (`peer get LINK` fetches it), to the clipboard, and shown. */
async function copyLink(file) {
  const note = $('#files-note');
  try {
    const query = file.folder ? { folder: file.name } : { name: file.name, sha256: file.sha256, size: String(file.size) };
    const { link } = await api(`/api/link?${new URLSearchParams(query)}`);
    const copied = await navigator.clipboard?.writeText(link).then(() => true, () => false);
    note.classList.remove('error');
    note.textContent = `${copied ? 'Copied a link' : 'A link'} to ${file.name}: ${link}`;
  } catch (error) {
    note.textContent = `No link to ${file.name}: ${error.message}`;
    note.classList.add('error');
  }
}

async function startDownload(name, sha256) {
  try {
    const { id } = await api('/api/downloads', { name, sha256 });
    contentOf.set(id, { name, sha256 });
    return id;
  } catch (error) {
    $('#files-note').textContent = `Cannot download ${name}: ${error.message}`;
    $('#files-note').classList.add('error');
  }
}

function renderDownload(d) {
  if (replaced.has(d.id)) return;
  downloads.set(d.id, d);
  let item = document.getElementById(`download-${d.id}`);
  if (!item) {
    item = element('li', undefined, { id: `download-${d.id}` });
    $('#downloads').prepend(item);
  }
  const running = ['resolving', 'waiting', 'transferring'].includes(d.status);
  const title = element('strong', d.name);
  const bar = element('progress', undefined, { max: String(d.total ?? 1), value: String(d.status === 'done' ? d.total ?? 1 : d.received), 'aria-label': `Progress of ${d.name}` });
  let text;
  if (d.status === 'done') {
    markSaved(d.result.sha256);
    text = `Saved to ${d.result.path} (${formatBytes(d.result.size)}) from ${d.result.holders.map((h) => h.holder).join(', ')}`;
  }
  else if (d.status === 'interrupted') text = d.received > 0 ? `Stopped at ${formatBytes(d.received)} of ${formatBytes(d.total)}. Resume picks up from there.` : 'Stopped before anything arrived.';
  else if (d.status === 'failed') text = `Failed: ${d.error}`;
  else if (d.status === 'waiting') text = d.waiting ?? 'Waiting';
  else if (d.status === 'resolving') text = 'Looking for holders…';
  else {
    const rate = d.sources.reduce((sum, s) => sum + s.rate, 0);
    const eta = rate > 0 && d.total ? (d.total - d.received) / rate : Infinity;
    text = `${formatBytes(d.received)} of ${formatBytes(d.total)}, ${formatBytes(rate)}/s, ${formatDuration(eta)} left, from ${d.sources.map((s) => `${s.holder} (${formatBytes(s.rate)}/s)`).join(', ')}`;
  }
  const line = element('p', text, d.status === 'failed' ? { class: 'error' } : {});
  const peers = peersTable(d);
  const actions = element('p');
  if (running) {
    const cancel = element('button', 'Cancel', { type: 'button', 'aria-label': `Cancel the download of ${d.name}` });
    cancel.addEventListener('click', () => api(`/api/downloads/${d.id}/cancel`, {}).catch(() => undefined));
    actions.append(cancel);
  } else if (d.status === 'done') {
    // As Soulseek users browse a user: what else the people this came from share.
    for (const { holder } of d.result.holders) {
      const look = element('button', `Browse ${holder}`, { type: 'button', class: 'secondary', 'aria-label': `Browse what ${holder} shares` });
      look.addEventListener('click', () => browse('', { asked: holder }));
      actions.append(look, ' ');
    }
  } else {
    const resume = element('button', 'Resume', { type: 'button', 'aria-label': `Resume the download of ${d.name}` });
    const content = contentOf.get(d.id);
    // The part on disk is picked up by the new download; its entry takes this one's place.
    resume.addEventListener('click', async () => {
      if ((await startDownload(d.name, content?.sha256)) !== undefined) {
        item.remove();
        downloads.delete(d.id);
        replaced.add(d.id);
      }
    });
    actions.append(resume);
  }
  item.replaceChildren(title, bar, line, ...(peers ? [peers] : []), actions);
}

/**
 * The peers of a download: each holder it fetches from (a complete one, or another downloader sharing
 * what it has), with what it sent us, and each downloader we sent pieces to. Text only: names from the
 * network never become markup.
 */
function peersTable(d) {
  const rows = new Map();
  const received = d.status === 'done' ? d.result.holders.map((h) => ({ holder: h.holder, bytes: h.bytes })) : d.sources;
  for (const s of received) rows.set(s.id ?? s.holder, { peer: s.holder, kind: s.partial ? 'downloading too' : s.id ? 'has it all' : '', received: s.bytes, sent: 0 });
  for (const s of d.served ?? []) {
    const row = rows.get(s.id) ?? { peer: `${s.id.slice(0, 7)}…`, kind: 'downloading too', received: 0, sent: 0 };
    row.sent = s.bytes;
    rows.set(s.id, row);
  }
  if (rows.size === 0) return undefined;
  const table = element('table', undefined, { class: 'peers', 'aria-label': `Peers of ${d.name}` });
  const head = element('tr');
  for (const name of ['Peer', '', 'Received from it', 'Sent to it']) head.append(element('th', name, { scope: 'col' }));
  table.append(head);
  for (const row of rows.values()) {
    const tr = element('tr');
    tr.append(element('td', row.peer), element('td', row.kind), element('td', formatBytes(row.received)), element('td', formatBytes(row.sent)));
    table.append(tr);
  }
  return table;
}

function renderShares(shares) {
  const list = $('#shares');
  list.replaceChildren();
  for (const s of shares) {
    const item = element('li');
    const stop = element('button', 'Stop sharing', { type: 'button', 'aria-label': `Stop sharing ${s.dir}` });
    stop.addEventListener('click', async () => {
      await api(`/api/shares/${s.id}/stop`, {}).catch((error) => ($('#share-note').textContent = error.message));
      refreshState();
    });
    // Every share by its full path, however it was given (a relative --share, or a path typed here).
    item.append(element('strong', s.root ?? s.dir), element('p', `${s.files} file${s.files === 1 ? '' : 's'}, ${formatBytes(s.bytes)}, port ${s.port}, ${s.connected ? 'shared' : 'reconnecting to the tracker'}`));
    // Firewalled: others still download, through connect-back; an open port would let them dial in.
    if (s.firewalled) item.append(element('p', `Firewalled: ${s.firewalled}. Others download through connect-back; let TCP port ${s.port} in to be reached directly.`, { class: 'muted' }));
    item.append(stop);
    list.append(item);
  }
  if (shares.length === 0) list.append(element('li', 'Nothing shared yet.', { class: 'muted' }));
}

const NETWORK_WORDS = { open: 'open network', key: 'private network', members: 'members network' };

/** The trackers found on the LAN, each with a button to use it; the link box is always there. */
async function showChooser() {
  // A list asked before (with no network to ask) must not overwrite what is said here.
  filesAsked++;
  $('#choose').hidden = false;
  $('#network').textContent = 'No network chosen yet';
  $('#files tbody').replaceChildren();
  $('#files').hidden = true;
  $('#files-note').textContent = 'Choose a network above to see what it shares.';
  $('#files-note').classList.remove('error');
  const { looking, trackers } = await api('/api/lan');
  const list = $('#lan');
  list.replaceChildren();
  for (const t of trackers) {
    const item = element('li');
    const use = element('button', 'Use', { type: 'button', 'aria-label': `Use tracker ${t.name}` });
    if (t.state === 'refused') use.disabled = true;
    use.addEventListener('click', () => choose({ name: t.name }));
    const said = t.state === 'refused' ? 'refused: its identity is not the one remembered under this name (an impostor?)' : t.state === 'known' ? 'used before' : 'new';
    item.append(element('strong', t.name), element('span', `${NETWORK_WORDS[t.network] ?? t.network} · ${t.address} · ${said}`), use);
    list.append(item);
  }
  $('#lan-note').textContent = !looking ? 'Looking on the LAN is off (PEER_DISCOVER=off): paste a join link.' : trackers.length === 0 ? 'Looking for trackers on this LAN… none has answered yet. Or paste a join link.' : `${trackers.length} tracker${trackers.length === 1 ? '' : 's'} on this LAN:`;
}

async function choose(body) {
  const note = $('#link-note');
  note.textContent = 'Connecting…';
  note.classList.remove('error');
  try {
    await api('/api/tracker', body);
    note.textContent = '';
    await chosen();
  } catch (error) {
    note.textContent = error.message;
    note.classList.add('error');
  }
}

async function chosen() {
  hasTracker = true;
  $('#choose').hidden = true;
  await refreshState();
  listFirst();
}

/** The join link of this network as a QR code on a canvas (drawn here: no image from elsewhere), and as text. */
async function showInvite() {
  const { link, qr } = await api('/api/join').catch(() => ({ link: null }));
  if (!link) return;
  inviteShown = true;
  const quiet = 4;
  const scale = 4;
  const canvas = $('#invite-qr');
  canvas.width = canvas.height = (qr.size + 2 * quiet) * scale;
  const paint = canvas.getContext('2d');
  paint.fillStyle = '#fff';
  paint.fillRect(0, 0, canvas.width, canvas.height);
  paint.fillStyle = '#000';
  for (let y = 0; y < qr.size; y++) for (let x = 0; x < qr.size; x++) if (qr.bits[y * qr.size + x] === '1') paint.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
  $('#invite-link').textContent = link;
  $('#invite-link-again').textContent = link;
  $('#invite').hidden = false;
}

/** Loads the whole state: at the start, after a share changed, and whenever the event stream (re)opens. */
async function refreshState() {
  const asked = ++stateAsked;
  const state = await api('/api/state');
  if (asked !== stateAsked) return;
  $('#out-dir').textContent = state.outDir;
  hasTracker = state.tracker !== '';
  if (!hasTracker) {
    renderShares(state.shares);
    return showChooser();
  }
  $('#choose').hidden = true;
  // The tracker's address only the state tells; what a tracker event showed after this state was read
  // (whether it is reached, the member name it gave) stays. Either way the header is drawn again, or an
  // event that came before the state would leave it without the address.
  // On a members network you are the name the operator gave you; elsewhere, your identity's start.
  header.tracker = state.tracker;
  const you = state.member ?? state.identity?.slice(0, 7) ?? '';
  if (networkEvent <= state.eventId || header.you === '') header.you = you;
  showHeader();
  renderShares(state.shares);
  for (const d of state.downloads) if ((downloadEvent.get(d.id) ?? 0) <= state.eventId) renderDownload(d);
  for (const sha256 of state.saved ?? []) markSaved(sha256);
}

// As the CLI says it: tenths of a second while short (a quick retry is not "0 s"), minutes when long.
const retryWords = (ms) => (ms < 60_000 ? `${Math.round(ms / 100) / 10} s` : formatDuration(ms / 1000));

const handlers = {
  download: (data) => {
    downloadEvent.set(data.id, lastEvent);
    renderDownload(data);
  },
  share: () => {
    $('#indexing').textContent = '';
    refreshState();
  },
  indexing: ({ dir, progress }) => ($('#indexing').textContent = `Hashing ${dir}: ${progress.files} files, ${formatBytes(progress.bytes)} so far`),
  'share-stopped': () => refreshState(),
  lan: () => {
    if (!hasTracker) showChooser();
  },
  chosen: () => {
    if (!hasTracker) chosen();
  },
  tracker: (t) => {
    networkEvent = lastEvent;
    const member = t.info?.member ?? t.share?.member;
    if (member) header.you = member;
    header.connected = t.state === 'connected';
    header.lost = t.state === 'connected' ? '' : `${t.reconnecting.reason}; retrying in ${retryWords(t.reconnecting.retryInMs)}`;
    showHeader();
  },
};

/** One event of the stream (`id:`, `event:` and `data:` lines), handed to its handler. */
function dispatch(block) {
  let event = 'message';
  let id;
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('id:')) id = Number(line.slice(3).trim());
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (Number.isSafeInteger(id)) lastEvent = Math.max(lastEvent, id);
  if (data.length > 0) handlers[event]?.(JSON.parse(data.join('\n')));
}

/**
 * The node's events as Server-Sent Events, read with fetch (EventSource cannot send the token header),
 * and read again after a lost connection. The state is loaded each time the stream opens: what happened
 * while it was closed (or before it first opened) is in the state, what happens after is in the events.
 */
async function follow() {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch('/api/events', { headers: withToken({ accept: 'text/event-stream' }) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      refreshState();
      attempt = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replaceAll('\r\n', '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Said below; tried again.
    }
    $('#network').textContent = 'Connection to peer ui lost; retrying…';
    await sleep(Math.min(10_000, 500 * 2 ** attempt));
  }
}

$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = $('#search').value.trim();
  if (q) search(q);
  else listFirst();
});
$('#show-all').addEventListener('click', () => { $('#search').value = ''; listFirst(); });
$('#more').addEventListener('click', listMore);
$('#show-folders').addEventListener('click', () => browse(browsing ?? '', browsingHolder));
// One person's files, named as `peer browse --holder` takes them: HOST:PORT, an identity's start, a member.
$('#holder-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const who = $('#holder').value.trim();
  if (who) browse('', { asked: who });
});
$('#link-form').addEventListener('submit', (e) => {
  e.preventDefault();
  choose({ link: $('#link').value.trim() });
});
$('#copy-link').addEventListener('click', () => navigator.clipboard?.writeText($('#invite-link').textContent).catch(() => undefined));
$('#share-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const note = $('#share-note');
  note.textContent = 'Indexing…';
  try {
    const share = await api('/api/shares', { dir: $('#share-dir').value });
    note.textContent = `Sharing ${share.files} file${share.files === 1 ? '' : 's'} from ${share.dir}.`;
    $('#share-dir').value = '';
    refreshState();
  } catch (error) {
    note.textContent = error.message;
  }
});

if (token) {
  // The list does not wait for the rest: it is what a person opened the page for (once there is a network).
  listFirst();
  follow();
} else {
  $('#network').textContent = 'Open the address that `peer ui` printed: it carries the access token.';
}
