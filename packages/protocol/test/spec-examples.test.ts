import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConnectBack, folderDigest, HolderReply, HolderRequest, parseEndpoint, readAnnouncement, TrackerReply, TrackerRequest } from '../src/index.js';

/* The spec (README.md) is the contract: each complete JSON example in it must be a valid message. */

const spec = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// A block may hold several messages, one per line.
const blocks = [...spec.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => splitMessages(m[1]!.trim()));
// Examples abbreviate hashes and names with "…"; those are illustrations, not messages.
const complete = blocks.filter((text) => !text.includes('…'));

describe('the examples of the spec', () => {
  it('are there', () => {
    expect(complete.length).toBeGreaterThanOrEqual(3);
  });

  it.each(complete)('%s is a valid message', (text) => {
    const message = JSON.parse(text) as unknown;
    const valid = [TrackerRequest, TrackerReply, HolderRequest, HolderReply, ConnectBack].some((schema) => schema.safeParse(message).success);
    expect(valid).toBe(true);
  });
});

describe('the join links of the spec', () => {
  // Whole links only: the templates (HOST:PORT) are not links.
  const links = [...spec.matchAll(/^p2p:\/\/\S+$/gm)].map((m) => m[0]).filter((link) => !link.includes('HOST'));

  it.each(links)('%s reads as a link', (link) => {
    expect(parseEndpoint(link)).toMatchObject({ host: expect.any(String), port: expect.any(Number), id: expect.any(String) });
  });

  it('the content link example names one content, percent-decoded', () => {
    const content = links.map((link) => parseEndpoint(link).content).find(Boolean);
    expect(content).toEqual({ sha256: '31f86092953fd687403924ef23270af8da18b58147a0055468ecb4dc00b1c5c5', size: 9, name: 'albums/song.txt' });
  });

  it("the folder link example's digest is the manifest of the content link example", () => {
    const folder = links.map((link) => parseEndpoint(link).folder).find(Boolean)!;
    const content = links.map((link) => parseEndpoint(link).content).find(Boolean)!;
    expect(folder).toEqual({ path: 'albums/', files: 1, digest: folderDigest([content]) });
  });

  it('the TXT example reads as an announcement', () => {
    const [, name, port, txt] = /`(\S+)\._p2pservice\._tcp\.local\. can be reached at \S+:(\d+)`\s+with TXT `([^`]+)`/.exec(spec)!;
    const record = Object.fromEntries(txt!.split(' ').map((pair) => pair.split('=') as [string, string]));
    expect(readAnnouncement({ name, port: Number(port), txt: record, referer: { address: '192.0.2.2' } })).toMatchObject({ name: 'lab', port: 7070, network: 'open', version: 2 });
  });
});

/** One message, or several on lines of their own (a message may span lines, continued with a space). */
function splitMessages(text: string): string[] {
  return text.split(/\n\s*(?=\{)/).map((part) => part.trim());
}
