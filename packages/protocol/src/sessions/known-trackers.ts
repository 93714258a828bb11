import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Address, formatAddress } from '../transport/address.js';
import { P2PError } from '../core/errors.js';
import { parseIdentity } from '../identity/identity-id.js';

/**
 * Trackers met before, and the identity each presented, like ssh's known_hosts: a tracker address given
 * without an identity is trusted on first use and remembered; from then on it must present the same
 * identity. One line per tracker: `HOST:PORT IDENTITY`; when an address appears twice, the later line
 * holds (an identity accepted anew on purpose is appended). A tracker found on the LAN is remembered by
 * the name it announced, `lan:NAME IDENTITY` (the name percent-encoded): addresses on a LAN change,
 * names are what people know.
 */
export class KnownTrackers {
  constructor(readonly file: string) {}

  /** The identity remembered for `address`, if any. */
  async lookup(address: Address): Promise<string | undefined> {
    return (await this.read()).get(formatAddress(address));
  }

  /**
   * Remembers (or replaces) the identity of `address`. The line is appended (a later line wins over an
   * earlier one for the same address): two programs remembering different trackers at once, as peers
   * of a network of several trackers do, both keep theirs, where rewriting the file would lose one.
   */
  async remember(address: Address, id: string): Promise<void> {
    await this.append(formatAddress(address), id);
  }

  private async append(where: string, id: string): Promise<void> {
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      await appendFile(this.file, `${where} ${id}\n`, { mode: 0o600 });
    } catch (error) {
      throw new P2PError('IO_ERROR', `cannot remember the tracker's identity in ${this.file}: ${(error as Error).message}`, 'check that the folder is writable (XDG_CONFIG_HOME)', { cause: error });
    }
  }

  /** The identity remembered for the tracker announced on the LAN as `name`, if any. */
  async lookupName(name: string): Promise<string | undefined> {
    return (await this.read()).get(nameKey(name));
  }

  /** Remembers the identity of the tracker announced as `name` (trust on first use, as for an address). */
  async rememberName(name: string, id: string): Promise<void> {
    await this.append(nameKey(name), id);
  }

  private async read(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new P2PError('IO_ERROR', `cannot read ${this.file}: ${(error as Error).message}`, 'check its permissions');
    }
    const entries = new Map<string, string>();
    for (const [n, line] of text.split('\n').entries()) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const [where, identity] = line.trim().split(/\s+/);
      try {
        entries.set(where!, parseIdentity(identity ?? '', `line ${n + 1} of ${this.file}`));
      } catch (error) {
        // A damaged line is not a reason to trust whoever answers: refuse until it is fixed.
        throw new P2PError('BAD_CONFIG', (error as P2PError).message, `fix or delete that line of ${this.file}`);
      }
    }
    return entries;
  }
}

/** Names are matched as DNS matches them: without regard to case. */
const nameKey = (name: string) => `lan:${encodeURIComponent(name.toLowerCase())}`;
