import { describe, expect, it } from 'vitest';
import { localName } from '../src/download/local-name.js';

/* The name a download is saved under, on each platform (injected): legal there, and said when it differs. */

describe('a download saved on Windows', () => {
  it.each([
    ['a:b?.txt', 'a_b_.txt', /refuses < > : " \| \? \*/],
    ['<tag>|"quoted"*.mp3', '_tag___quoted__.mp3', /refuses/],
    ['CON', 'CON_', /CON is a device name/],
    ['nul.txt', 'nul_.txt', /NUL is a device name/],
    ['com1.tar.gz', 'com1_.tar.gz', /COM1 is a device name/],
    ['LPT9', 'LPT9_', /LPT9 is a device name/],
    ['notes. ', 'notes__', /dots and spaces at the end/],
    ['con.', 'con_', /dots and spaces at the end/],
  ])('%j is saved as %j, and the reason is said', (name, local, why) => {
    const result = localName(name, 'win32');
    expect(result.name).toBe(local);
    expect(result.why).toMatch(why);
  });

  it.each(['song.flac', 'CONSOLE.txt', 'com10', 'report.final.pdf', 'Beyoncé.mp3'])('keeps %j as it is', (name) => {
    expect(localName(name, 'win32')).toEqual({ name });
  });
});

describe('a download saved on macOS and Linux', () => {
  it('is saved in composed form on macOS, said once; as it is on Linux', () => {
    const decomposed = 'Beyonce\u0301.mp3';
    expect(localName(decomposed, 'darwin')).toEqual({ name: 'Beyoncé.mp3', why: expect.stringMatching(/NFC/) });
    expect(localName('Beyoncé.mp3', 'darwin')).toEqual({ name: 'Beyoncé.mp3' });
    expect(localName('a:b?.txt', 'linux')).toEqual({ name: 'a:b?.txt' });
    expect(localName(decomposed, 'linux')).toEqual({ name: decomposed });
  });
});
