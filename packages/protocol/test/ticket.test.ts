import { describe, expect, it } from 'vitest';
import { folderDigest, formatContentLink, formatFolderLink, formatLink, generateInvite, generateNetworkKey, parseEndpoint, parseNetworkKey, parseEndpointList, parseInvite, TicketChecker, TicketSigner } from '../src/index.js';
import { testIdentity } from '@p2pservice/test-support/tls';

describe('tickets', () => {
  const tracker = testIdentity('tracker');
  const signer = new TicketSigner(tracker);
  const checker = new TicketChecker((id) => id === tracker.id);

  it('hold for their member until their end, and are checked once per signer key', () => {
    const ticket = signer.issue('MEMBER', 2_000);
    expect(checker.problem(ticket, 'MEMBER', 1_999)).toBeUndefined();
    expect(checker.problem(ticket, 'MEMBER', 2_000)).toMatch(/has ended/);
    expect(checker.problem(ticket, 'OTHER', 1_000)).toMatch(/another identity/);
    expect(checker.problem(ticket, undefined, 1_000)).toMatch(/another identity/);
    expect(checker.problem({ ...ticket, member: 'OTHER' }, 'OTHER', 1_000)).toMatch(/signature does not match/);
    expect(checker.problem({ ...ticket, signature: Buffer.from('x').toString('base64') }, 'MEMBER', 1_000)).toMatch(/signature does not match/);
    expect(checker.problem({ ...ticket, signer: Buffer.from('not a certificate').toString('base64') }, 'MEMBER', 1_000)).toMatch(/not signed by this holder's tracker/);
  });
});

describe('join links', () => {
  const id = testIdentity('tracker').id;

  it('carry the address, the identity and an invite, and read back as they were written', () => {
    const invite = generateInvite();
    const link = formatLink({ host: '10.0.0.5', port: 7070, id, invite });
    expect(link).toMatch(/^p2p:\/\/10\.0\.0\.5:7070#[A-Z2-7-]{63}\?invite=[A-Z2-7]{10}\.[A-Z2-7]{52}$/);
    const read = parseEndpoint(link);
    expect(read).toEqual({ host: '10.0.0.5', port: 7070, id, invite: { id: invite.id, secret: invite.secret } });
    expect(parseEndpointList(link)).toEqual([read]);
    expect(parseEndpoint(formatLink({ host: '::1', port: 7070, id }))).toEqual({ host: '::1', port: 7070, id });
  });

  it("carry a private network's key, checked as a key, and never echo it in an error", () => {
    const key = generateNetworkKey();
    const link = formatLink({ host: '10.0.0.5', port: 7070, id, key });
    expect(link).toBe(`p2p://10.0.0.5:7070#${id}?key=${key}`);
    expect(parseEndpoint(link)).toEqual({ host: '10.0.0.5', port: 7070, id, key });
    expect(parseNetworkKey(parseEndpoint(link).key!)).toEqual(parseNetworkKey(key));
    const cut = link.slice(0, -6);
    expect(() => parseEndpoint(cut)).toThrow(/the key in address "p2p:\/\/10\.0\.0\.5:7070#[^"]*\?key=…" is not a network key$/);
    expect(() => parseEndpoint(cut)).not.toThrow(new RegExp(key.slice(0, 20)));
  });

  it('name one content: written and read back the same, name percent-encoded, root optional', () => {
    const content = { sha256: 'a'.repeat(64), size: 1234, name: 'The Beatles/Abbey Road/01 Come Together & more?.flac', root: 'b'.repeat(64) };
    const link = formatContentLink({ host: '10.0.0.5', port: 7070, id }, content);
    expect(link).toBe(`p2p://10.0.0.5:7070#${id}?sha256=${'a'.repeat(64)}&size=1234&name=The%20Beatles%2FAbbey%20Road%2F01%20Come%20Together%20%26%20more%3F.flac&root=${'b'.repeat(64)}`);
    expect(parseEndpoint(link)).toEqual({ host: '10.0.0.5', port: 7070, id, content });
    const { root: _root, ...withoutRoot } = content;
    expect(parseEndpoint(formatContentLink({ host: '10.0.0.5', port: 7070, id }, withoutRoot)).content).toEqual(withoutRoot);
    expect(() => parseEndpoint(link.replace(/sha256=a+/, 'sha256=xyz'))).toThrow(/has a sha256 that is not 64 lowercase hex digits/);
    expect(() => parseEndpoint(link.replace(/&size=1234/, '&size=-1'))).toThrow(/has a size that is not a whole number of bytes/);
    expect(() => parseEndpoint(link.replace(/&name=[^&]+/, '&name=..%2Fetc%2Fpasswd'))).toThrow(/names a file that cannot be one/);
    expect(() => parseEndpoint(link.replace(/&name=[^&]+/, '&name=%E0%A4%A'))).toThrow(/not percent-encoded right/);
  });

  it('name a folder: its path, its file count and the digest of its files', () => {
    const files = [{ name: 'Music/Live/b.flac', sha256: 'b'.repeat(64) }, { name: 'Music/Live/a.flac', sha256: 'a'.repeat(64) }];
    const digest = folderDigest(files);
    expect(digest).toBe(folderDigest([...files].reverse()));
    expect(digest).not.toBe(folderDigest([files[0]!]));
    const link = formatFolderLink({ host: '10.0.0.5', port: 7070, id }, { path: 'Music/Live/', files: 2, digest });
    expect(link).toBe(`p2p://10.0.0.5:7070#${id}?folder=Music%2FLive%2F&files=2&digest=${digest}`);
    expect(parseEndpoint(link)).toEqual({ host: '10.0.0.5', port: 7070, id, folder: { path: 'Music/Live/', files: 2, digest } });
    expect(() => parseEndpoint(link.replace('folder=Music%2FLive%2F', 'folder=..%2F'))).toThrow(/names a folder that cannot be one/);
    expect(() => parseEndpoint(link.replace('Live%2F&', 'Live&'))).toThrow(/names a folder that cannot be one: it does not end in \//);
    expect(() => parseEndpoint(link.replace(/&digest=[0-9a-f]+/, ''))).toThrow(/names a folder without its digest/);
    expect(() => parseEndpoint(`${link}&sha256=${'c'.repeat(64)}`)).toThrow(/names a folder and a file at once/);
  });

  it('are refused in words when cut short or mistyped, never echoing the secret', () => {
    const link = formatLink({ host: '10.0.0.5', port: 7070, id, invite: generateInvite() });
    expect(() => parseEndpoint('p2p://10.0.0.5:7070')).toThrow(/names no tracker identity/);
    expect(() => parseEndpoint(link.slice(0, -3))).toThrow(/is not an invite/);
    expect(() => parseEndpoint(`${link}&colour=x`)).toThrow(/has an unknown part "colour"/);
    try {
      parseEndpoint(link.slice(0, -3));
    } catch (error) {
      expect((error as Error).message).not.toContain(link.slice(-20, -3));
    }
    expect(() => parseInvite('ABC.DEF')).toThrow(/is not an invite/);
  });
});
