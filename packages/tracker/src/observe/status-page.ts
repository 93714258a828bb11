import type { PeerEvent } from './activity.js';

/** What the status page shows; every string in it may have come from the network or a setting. */
export interface StatusFacts {
  version: string;
  serving: boolean;
  network: 'open' | 'key' | 'members';
  instance: string;
  database: string;
  startedAt: Date;
  now: Date;
  peers: number;
  files: number;
  contents: number;
  connections: number;
  recent: readonly PeerEvent[];
  /** How peers join: the link (with the key only on a page nobody else can reach) and its QR code. */
  join?: StatusJoin;
  /** On a key or members network: the member counts and the members seen most recently. */
  members?: { members: number; revoked: number; recent: readonly StatusMember[] };
}

/** The join link as the status page shows it. */
export interface StatusJoin {
  link: string;
  /** The link drawn as a QR code, an SVG made here (svgQr), never from the network. */
  qrSvg: string;
  /** Whether the link holds the network key (a private network, on a page only this machine reaches). */
  holdsKey: boolean;
  /** Whether the tracker announces itself on the LAN (TRACKER_ANNOUNCE). */
  announced: boolean;
}

/** A member as the status page lists it. */
export interface StatusMember {
  name: string;
  identity: string;
  state: 'online' | 'offline' | 'revoked';
  lastSeen: Date;
}

/** Members the status page lists at most: those seen most recently. */
export const STATUS_MEMBERS = 50;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe to stand anywhere in HTML, attribute values included. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** "3 d 4 h", "2 h", "4 min 7 s", "12 s": the two largest units, a zero second one left out. */
export function formatUptime(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const counts = (
    [
      ['d', 86_400],
      ['h', 3_600],
      ['min', 60],
      ['s', 1],
    ] as const
  ).map(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return `${count} ${unit}`;
  });
  const first = counts.findIndex((c) => !c.startsWith('0 '));
  if (first < 0) return '0 s';
  return counts
    .slice(first, first + 2)
    .filter((c, i) => i === 0 || !c.startsWith('0 '))
    .join(' ');
}

const number = (n: number) => n.toLocaleString('en-US');

const NETWORK_WORDS = { open: 'open', key: 'private: peers prove the network key', members: 'members only' } as const;

/** The tracker's status as one small HTML page: no script, no outside asset; it reloads itself. */
export function renderStatusPage(facts: StatusFacts): string {
  const rows: [string, string][] = [
    ['State', facts.serving ? 'serving' : 'rejoining the network (new connections are refused for now)'],
    ['Peers online', number(facts.peers)],
    ['Files listed', number(facts.files)],
    ['Distinct contents', number(facts.contents)],
    ['Connections to this tracker', number(facts.connections)],
    ['Up for', formatUptime(facts.now.getTime() - facts.startedAt.getTime())],
    ['Network', NETWORK_WORDS[facts.network]],
    ...(facts.members ? [['Members', `${number(facts.members.members)}${facts.members.revoked ? ` (and ${number(facts.members.revoked)} revoked)` : ''}`] as [string, string]] : []),
    ['Instance', facts.instance],
    ['Database', facts.database],
    ['Version', facts.version],
  ];
  const events = facts.recent.length
    ? facts.recent
        .map(
          (e) =>
            `<tr><td><time datetime="${e.at.toISOString()}">${escapeHtml(e.at.toISOString().replace('T', ' ').slice(0, 19))}</time></td>` +
            `<td>${e.kind}</td><td>${escapeHtml(e.address)}</td><td>${e.files === undefined ? '' : number(e.files)}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="4">none since the tracker started</td></tr>';
  const time = (at: Date) => `<time datetime="${at.toISOString()}">${escapeHtml(at.toISOString().replace('T', ' ').slice(0, 19))}</time>`;
  const members = facts.members
    ? `<h2>Members, most recently seen first</h2>
<table aria-label="Members">
<thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Last seen (UTC)</th><th scope="col">Identity</th></tr></thead>
<tbody>
${
  facts.members.recent.length
    ? facts.members.recent.map((m) => `<tr><td>${escapeHtml(m.name)}</td><td>${m.state}</td><td>${time(m.lastSeen)}</td><td>${escapeHtml(m.identity.slice(0, 7))}</td></tr>`).join('\n')
    : '<tr><td colspan="4">none yet: make an invite with <code>tracker invite</code></td></tr>'
}
</tbody>
</table>
`
    : '';
  const join = joinSection(facts);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>P2PService tracker: ${facts.serving ? 'serving' : 'rejoining'}</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
th[scope=row] { width: 16rem; font-weight: 600; }
.join svg { width: 12rem; height: 12rem; float: right; margin: 0 0 1rem 1rem; }
.join code { word-break: break-all; }
</style>
</head>
<body>
<main>
<h1>P2PService tracker</h1>
<table aria-label="Status">
${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</table>
${join}${members}<h2>Recent joins and leaves</h2>
<table aria-label="Recent joins and leaves">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Peer</th><th scope="col">Files</th></tr></thead>
<tbody>
${events}
</tbody>
</table>
<p>Numbers of the whole network come from the database; connections and events are this tracker's. Metrics for Prometheus: <a href="/metrics">/metrics</a>.</p>
</main>
</body>
</html>
`;
}

/** "Join this network": the link, its QR code for a phone or a second laptop, and what else a peer needs. */
function joinSection(facts: StatusFacts): string {
  if (facts.network === 'members') {
    return '<h2>Join this network</h2>\n<p>Members only: each new member joins with the link of an invite, made with <code>tracker invite</code>.</p>\n';
  }
  if (!facts.join) return '';
  const { link, qrSvg, holdsKey, announced } = facts.join;
  const note = [
    facts.network === 'key' && holdsKey && 'The link holds the network key: give it only to members.',
    facts.network === 'key' && !holdsKey && 'Peers also need the network key, which a page others can reach does not show.',
    announced && 'Peers on this LAN also find the tracker with no link at all: it announces itself.',
  ]
    .filter(Boolean)
    .join(' ');
  return `<h2>Join this network</h2>
<div class="join">${qrSvg}
<p>On another machine: <code>peer join '${escapeHtml(link)}'</code>, or point a phone's camera at the code.</p>
<p><code>${escapeHtml(link)}</code></p>
${note ? `<p>${escapeHtml(note)}</p>` : ''}
</div>
`;
}
