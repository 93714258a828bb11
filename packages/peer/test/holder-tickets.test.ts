import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HolderSession, RemoteError, type Ticket, TicketChecker, TicketSigner } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileServer, type HolderAdmission, indexFolder } from '../src/index.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { silentLogger, testIdentity, tlsAs } from './support.js';

/*
 * A holder on a members network serves only clients with a good ticket from its tracker: signed by the
 * tracker it trusts, for the identity the client proved, and not ended. Raw sessions, no tracker.
 */

const content = randomBytes(300_000);
const sha256 = createHash('sha256').update(content).digest('hex');
const tracker = new TicketSigner(testIdentity('tracker'));
const impostor = new TicketSigner(testIdentity('impostor'));
const admission: HolderAdmission = { network: () => 'members', checker: new TicketChecker((signer) => signer === testIdentity('tracker').id) };

let root: string;
let server: FileServer;
beforeAll(async () => {
  root = tempDir('p2p-holder-tickets-');
  mkdirSync(join(root, 'share'));
  writeFileSync(join(root, 'share', 'file.bin'), content);
  const index = await indexFolder(join(root, 'share'), { cacheDir: null });
  server = await FileServer.start({ host: '127.0.0.1', port: 0, index, logger: silentLogger, transport: tlsAs('holder'), admission });
});
afterAll(async () => {
  await server.close();
  removeDir(root);
});

/** Fetches the whole file as `as`, showing `ticket`; the bytes, or the error. */
async function fetchAs(as: string, ticket: Ticket | undefined): Promise<Buffer | unknown> {
  try {
    const holder = await HolderSession.open({ host: '127.0.0.1', port: server.address.port }, { transport: tlsAs(as), ...(ticket && { ticket: () => ticket }) });
    try {
      const { body } = await holder.fetch(sha256, 0, content.length);
      return Buffer.concat((await body.toArray()) as Buffer[]);
    } finally {
      await holder.close();
    }
  } catch (error) {
    return error;
  }
}

const member = testIdentity('peer').id;
const denied = (pattern: RegExp) => expect.objectContaining({ code: 'ACCESS_DENIED', said: expect.stringMatching(pattern) });

describe('a holder on a members network', () => {
  it('serves a member whose ticket its tracker signed', async () => {
    expect(await fetchAs('peer', tracker.issue(member, Date.now() + 60_000))).toEqual(content);
  });

  it('refuses a client without a ticket, with an ended one, another identity’s, a forged or a tampered one', async () => {
    const good = tracker.issue(member, Date.now() + 60_000);
    const cases: [Ticket | undefined, string, RegExp][] = [
      [undefined, 'peer', /members only, and this client sent no ticket/],
      [tracker.issue(member, Date.now() - 1), 'peer', /the ticket has ended/],
      [good, 'other', /for another identity/],
      [impostor.issue(member, Date.now() + 60_000), 'peer', /not signed by this holder's tracker/],
      [{ ...good, until: good.until + 3_600_000 }, 'peer', /signature does not match/],
    ];
    for (const [ticket, as, pattern] of cases) {
      const error = await fetchAs(as, ticket);
      expect(error, pattern.source).toBeInstanceOf(RemoteError);
      expect(error).toEqual(denied(pattern));
    }
  });
});
