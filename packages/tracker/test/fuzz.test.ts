import { join } from 'node:path';
import fc from 'fast-check';
import { type FileEntry, type ListEntry, TrackerSession } from '@p2pservice/protocol';
import { tlsAs } from '@p2pservice/test-support/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feed, hello, wireInput } from '@p2pservice/test-support/fuzz';
import { sha, startTracker, tempDir, type TestTracker, asPeer, peerId as sharingPeerId } from './helpers.js';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * The tracker over real sockets, fed generated input: valid, mutated and random frames in random
 * chunkings. It must never crash, never keep anything from a connection that has gone, and keep
 * answering an honest client. Then a model-based run drives it through random sequences of peers
 * connecting, sharing, changing, listing, leaving and crashing, checking every answer against a model.
 */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
let port: number;
beforeAll(async () => {
  dir = tempDir();
  tracker = await startTracker(join(dir.path, 'fuzz.db'), { handshakeTimeoutMs: 300, maxFilesPerShare: 50 });
  port = tracker.address.port;
});
afterAll(async () => {
  await tracker.close();
  dir.remove();
});

const address = () => ({ host: '127.0.0.1', port });

describe('the tracker under generated input', () => {
  it('survives every input, keeps nothing of closed connections, and keeps serving others', async () => {
    const baseline = await TrackerSession.open(address(), asPeer);
    await baseline.register(1, [{ name: 'baseline', size: 1, sha256: sha('b'), root: 'e'.repeat(64) }]);
    // The baseline keeps its heartbeat as a real peer does: a run can outlast the tracker's peer timeout.
    const heartbeat = setInterval(() => void baseline.ping().catch(() => undefined), 10_000);
    let inputs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.array(wireInput, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 4 }), async (sayHello, pieces, chunking) => {
          inputs += pieces.length;
          const socket = await tlsAs('peer').dial(address());
          await feed(socket, Buffer.concat(sayHello ? [hello, ...pieces] : pieces), chunking);
          // Whatever the connection registered went with it.
          await eventually(async () => (await tracker.store.counts()).peers === 1);
          expect(await tracker.store.counts()).toEqual({ peers: 1, files: 1 });
        }),
        { numRuns: 10_000 },
      );
    } finally {
      clearInterval(heartbeat);
    }
    expect(inputs).toBeGreaterThan(20_000);
    await baseline.ping();
    expect(await baseline.whoHas('baseline')).toHaveLength(1);
    await baseline.close();
  }, 120_000);
});

// ---- model-based ----

interface Model {
  shares: Map<number, FileEntry[]>;
}
interface Real {
  sessions: Map<number, TrackerSession>;
  listener: { port: number };
}

const NAMES = ['a', 'b', 'dir/c'];
const CONTENTS = ['1', '2', '3'];
const file = fc.record({ name: fc.constantFrom(...NAMES), content: fc.constantFrom(...CONTENTS) }).map(({ name, content }) => ({
  name,
  size: Number(content),
  sha256: sha(content),
  root: sha(content),
}));
const share = fc.uniqueArray(file, { selector: (f) => f.name, maxLength: 3 });
const peerId = fc.integer({ min: 0, max: 3 });

function expectedList(model: Model): ListEntry[] {
  const rows = new Map<string, ListEntry>();
  for (const files of model.shares.values()) {
    for (const f of files) {
      const key = `${f.name}\u0000${f.sha256}`;
      const row = rows.get(key);
      if (row) row.holders++;
      else rows.set(key, { name: f.name, sha256: f.sha256, size: f.size, holders: 1 });
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
}

async function listAll(): Promise<ListEntry[]> {
  const client = await TrackerSession.open(address(), asPeer);
  try {
    const out: ListEntry[] = [];
    for await (const entry of client.list(2)) out.push(entry);
    return out;
  } finally {
    await client.close();
  }
}

class Connect implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    if (!r.sessions.has(this.peer)) r.sessions.set(this.peer, await TrackerSession.open(address(), asPeer));
  }
  toString = () => `connect(${this.peer})`;
}
class Register implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number, readonly files: FileEntry[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const session = r.sessions.get(this.peer);
    if (!session) return;
    expect(await session.register(r.listener.port, this.files)).toBe(this.files.length);
    m.shares.set(this.peer, this.files);
  }
  toString = () => `register(${this.peer}, ${this.files.map((f) => f.name).join(',')})`;
}
class Update implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number, readonly added: FileEntry[], readonly removed: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const session = r.sessions.get(this.peer);
    const current = m.shares.get(this.peer);
    if (!session || !current) return;
    const next = new Map(current.map((f) => [f.name, f]));
    for (const name of this.removed) next.delete(name);
    for (const f of this.added) next.set(f.name, f);
    expect(await session.update(this.added, this.removed)).toBe(next.size);
    m.shares.set(this.peer, [...next.values()]);
  }
  toString = () => `update(${this.peer}, +${this.added.map((f) => f.name)}, -${this.removed})`;
}
class Leave implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number, readonly crash: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const session = r.sessions.get(this.peer);
    if (!session) return;
    if (this.crash) session.connection.socket.destroy();
    else await session.close();
    r.sessions.delete(this.peer);
    m.shares.delete(this.peer);
  }
  toString = () => `${this.crash ? 'crash' : 'leave'}(${this.peer})`;
}
class CheckList implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model) {
    // Departures are applied as the tracker sees the socket close: allow that a moment.
    const expected = expectedList(m);
    const deadline = Date.now() + 3_000;
    let actual = await listAll();
    while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      actual = await listAll();
    }
    expect(actual).toEqual(expected);
  }
  toString = () => 'list';
}
class CheckWhoHas implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await new CheckList().run(m);
    const client = await TrackerSession.open(address(), asPeer);
    const contents = await client.whoHas(this.name);
    await client.close();
    const expected = expectedList(m).filter((e) => e.name === this.name);
    expect(contents.map((c) => ({ sha256: c.sha256, holders: c.holders.length }))).toEqual(expected.map((e) => ({ sha256: e.sha256, holders: e.holders })));
    for (const c of contents) for (const h of c.holders) expect(h).toEqual({ host: '127.0.0.1', port: r.listener.port, id: sharingPeerId, root: c.sha256 });
  }
  toString = () => `who_has(${this.name})`;
}

describe('the tracker against a model', () => {
  it('answers list and who-has like the model through random connects, shares, updates, leaves and crashes', async () => {
    const commands = fc.commands(
      [
        peerId.map((p) => new Connect(p)),
        fc.tuple(peerId, share).map(([p, files]) => new Register(p, files)),
        fc.tuple(peerId, share, fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 2 })).map(([p, added, removed]) => new Update(p, added, removed.filter((n) => !added.some((a) => a.name === n)))),
        fc.tuple(peerId, fc.boolean()).map(([p, crash]) => new Leave(p, crash)),
        fc.constant(new CheckList()),
        fc.constantFrom(...NAMES).map((n) => new CheckWhoHas(n)),
      ],
      { maxCommands: 25 },
    );
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const real: Real = { sessions: new Map(), listener: { port: 9 } };
        try {
          await fc.asyncModelRun(() => ({ model: { shares: new Map() }, real }), cmds);
        } finally {
          for (const session of real.sessions.values()) session.connection.destroy();
          await eventually(async () => (await tracker.store.counts()).peers <= 1);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
