import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createIdentity,
  fingerprintOfIdentity,
  identityFile,
  identityOfCertificate,
  identityOfFingerprint,
  KnownTrackers,
  loadOrCreateIdentity,
  parseEndpoint,
  parseIdentity,
  shortIdentity,
  uncheckedSecretLine,
} from '../src/index.js';
import { selfSignedCertificate } from '../src/identity/certificate.js';
import { time } from '../src/identity/der.js';

describe('identities in their typeable form', () => {
  it('matches the worked example of the spec', () => {
    const id = identityOfFingerprint(Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
    expect(id).toBe('AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS');
    expect(shortIdentity(id)).toBe('AAAQEAY');
  });

  it('reads any case, with or without dashes, and gives back the fingerprint it stands for', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const id = identityOfFingerprint(Buffer.from(bytes));
        expect(parseIdentity(id.toLowerCase().replace(/-/g, ''))).toBe(id);
        expect(parseIdentity(id.replace(/-/g, ' '))).toBe(id);
        expect(fingerprintOfIdentity(id).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it('catches every single mistyped character by its check characters', () => {
    const id = identityOfFingerprint(Buffer.alloc(32, 7)).replace(/-/g, '');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let caught = 0;
    let tried = 0;
    for (let at = 0; at < id.length; at++) {
      for (const char of alphabet) {
        if (char === id[at]) continue;
        tried++;
        try {
          parseIdentity(id.slice(0, at) + char + id.slice(at + 1));
        } catch (error) {
          expect(error).toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('mistyped') });
          caught++;
        }
      }
    }
    expect(caught).toBe(tried);
  });

  it('refuses what is not an identity, naming it', () => {
    for (const text of ['', 'ABC', 'AAAQEAY-EAUDAO5', '0'.repeat(56), 'AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS-X']) {
      expect(() => parseIdentity(text)).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
    }
  });

  it('pins a tracker with HOST:PORT#IDENTITY, IPv6 too', () => {
    const id = identityOfFingerprint(Buffer.alloc(32, 1));
    expect(parseEndpoint(`10.0.0.5:7070#${id.toLowerCase()}`)).toEqual({ host: '10.0.0.5', port: 7070, id });
    expect(parseEndpoint(`[::1]:7070#${id}`)).toEqual({ host: '::1', port: 7070, id });
    expect(parseEndpoint('10.0.0.5:7070')).toEqual({ host: '10.0.0.5', port: 7070 });
    expect(() => parseEndpoint('10.0.0.5:7070#nope', '--tracker')).toThrowError('in --tracker "10.0.0.5:7070#nope", the part after # "nope" is not an identity');
  });
});

describe('certificates', () => {
  it('are v3, self-signed, valid for 20 years from a day ago, and match their key', () => {
    const identity = createIdentity('test');
    const cert = new X509Certificate(identity.cert);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=test');
    expect(cert.ca).toBe(false);
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now() - 23 * 3_600_000);
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(new Date().getUTCFullYear() + 20);
    expect(identityOfCertificate(cert.raw)).toBe(identity.id);
  });

  it('write times as UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280)', () => {
    expect(time(new Date(Date.UTC(2049, 11, 31, 23, 59, 59)))).toEqual(Buffer.concat([Buffer.from([0x17, 13]), Buffer.from('491231235959Z')]));
    expect(time(new Date(Date.UTC(2050, 0, 1)))).toEqual(Buffer.concat([Buffer.from([0x18, 15]), Buffer.from('20500101000000Z')]));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = selfSignedCertificate(privateKey, publicKey, { commonName: 'far', notBefore: new Date(Date.UTC(2049, 0, 1)), notAfter: new Date(Date.UTC(2070, 0, 1)) });
    const cert = new X509Certificate(der);
    expect(cert.validTo).toBe('Jan  1 00:00:00 2070 GMT');
    expect(cert.verify(publicKey)).toBe(true);
  });
});

describe('identity files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'p2p-identity-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are made on first use, readable by their owner only, and the same identity from then on', async () => {
    const config = join(dir, 'config', 'p2pservice');
    const first = await loadOrCreateIdentity(config, 'peer');
    expect(first.created).toBe(true);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(statSync(config).mode & 0o777).toBe(0o700);
    const again = await loadOrCreateIdentity(config, 'peer');
    expect(again).toMatchObject({ created: false, identity: { id: first.identity.id } });
    expect((await loadOrCreateIdentity(config, 'tracker')).identity.id).not.toBe(first.identity.id);
  });

  it('end up as one identity when several processes make one at the same moment', async () => {
    const made = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(dir, 'peer')));
    expect(new Set(made.map((m) => m.identity.id)).size).toBe(1);
    expect((await loadOrCreateIdentity(dir, 'peer')).identity.id).toBe(made[0]!.identity.id);
  });

  it('refuse a key file others can read, saying how to fix it', async () => {
    const { file } = await loadOrCreateIdentity(dir, 'peer');
    chmodSync(file, 0o644);
    await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      message: `identity key ${file} can be read by other users (mode 644)`,
      hint: `make it private with: chmod 600 ${file}`,
    });
  });

  it('on Windows, where a mode says nothing, are used and marked unchecked, so that the program says so', async () => {
    const { file, identity, unchecked } = await loadOrCreateIdentity(dir, 'peer');
    expect(unchecked).toBe(false);
    chmodSync(file, 0o644);
    const onWindows = await loadOrCreateIdentity(dir, 'peer', 'win32');
    expect(onWindows).toMatchObject({ file, created: false, unchecked: true });
    expect(onWindows.identity.id).toBe(identity.id);
    expect(uncheckedSecretLine(file)).toBe(`on Windows, file modes do not show who can read ${file}: keep it in your own user folder, where only you can read it`);
  });

  it('refuse a file that is not a key and its certificate, or cannot be read', async () => {
    const file = identityFile(dir, 'peer');
    writeFileSync(file, 'not a key at all', { mode: 0o600 });
    await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({ code: 'BAD_CONFIG', message: `identity file ${file} does not hold a private key and its certificate` });
    // A key with someone else's certificate is no identity either.
    const mine = createIdentity('mine');
    writeFileSync(file, mine.key + createIdentity('other').cert, { mode: 0o600 });
    await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    rmSync(file);
    mkdirSync(file, { mode: 0o700 });
    await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({ code: 'BAD_CONFIG', message: `cannot read identity ${file}: it is a folder` });
    rmSync(file, { recursive: true });
    writeFileSync(file, mine.key + mine.cert, { mode: 0o600 });
    expect((await loadOrCreateIdentity(dir, 'peer')).identity.id).toBe(mine.id);
    if (process.getuid?.() !== 0) {
      // (As root, file permissions do not stop reading: this case cannot be made there.)
      chmodSync(file, 0o000);
      await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({ code: 'BAD_CONFIG', message: `cannot read identity ${file}: permission denied` });
    }
  });

  it('refuse an identity whose certificate expired', async () => {
    const old = createIdentity('old', new Date(Date.UTC(2000, 0, 1)));
    writeFileSync(identityFile(dir, 'peer'), old.key + old.cert, { mode: 0o600 });
    await expect(loadOrCreateIdentity(dir, 'peer')).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('expired on') });
  });
});

describe('known trackers', () => {
  it('keeps every tracker that programs remember at the same time, and the latest identity of each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-known-'));
    try {
      const file = join(dir, 'known-trackers');
      const ids = Array.from({ length: 20 }, (_, i) => identityOfFingerprint(Buffer.alloc(32, i)));
      // As separate programs would: each its own object, all writing at once.
      await Promise.all(ids.map((id, i) => new KnownTrackers(file).remember({ host: '10.0.0.1', port: 7000 + i }, id)));
      const known = new KnownTrackers(file);
      for (const [i, id] of ids.entries()) expect(await known.lookup({ host: '10.0.0.1', port: 7000 + i })).toBe(id);
      await known.remember({ host: '10.0.0.1', port: 7000 }, ids[5]!);
      expect(await known.lookup({ host: '10.0.0.1', port: 7000 })).toBe(ids[5]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
