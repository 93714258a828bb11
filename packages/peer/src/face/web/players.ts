import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { P2PError } from '@p2pservice/protocol';
import type { PartFile } from '../../download/part-file.js';
import { PlayWindow } from '../../download/play-window.js';
import type { PeerNode } from '../../node.js';

/** Most files played at once from one page (each is a download of its own). */
export const MAX_PLAYERS = 8;
/** Longest a player's request waits for the first piece it asks for, in ms. */
export const PLAY_WAIT_MS = 30_000;
/** Most bytes sent for one request: a player asks again for what follows. */
export const PLAY_CHUNK_BYTES = 4 * 1024 * 1024;

interface Playing {
  name: string;
  size: number;
  window: PlayWindow;
  part?: PartFile;
  /** Where the finished file is, once the download is done. */
  done?: string;
  failed?: string;
}

/** A range of a file to send: [start, end] inclusive, as HTTP counts. */
export interface Slice {
  start: number;
  end: number;
  size: number;
  bytes: Buffer;
}

/**
 * Files the page plays while they download: each is a download of its own whose pieces the player reads
 * next are fetched first (PlayWindow), and only verified pieces are ever sent to the browser. A player
 * reaches its file by an unguessable key in the address (a `<video>` cannot send the page's token).
 */
export class Players {
  private readonly playing = new Map<string, Playing>();

  constructor(
    private readonly node: PeerNode,
    private readonly outDir: string,
  ) {}

  /** The name of a playing file, by its key. */
  nameOf(key: string): string | undefined {
    return this.playing.get(key)?.name;
  }

  /** Starts (or finds again) the download of `name` with content `sha256`; the key of its player. */
  play(name: string, sha256: string, size: number): string {
    for (const [key, entry] of this.playing) if (entry.name === name && !entry.failed) return key;
    if (this.playing.size >= MAX_PLAYERS) throw new P2PError('BAD_CONFIG', `${MAX_PLAYERS} files are playing already`, 'reload the page to start again');
    const key = randomBytes(16).toString('base64url');
    const entry: Playing = { name, size, window: new PlayWindow() };
    this.playing.set(key, entry);
    const { finished } = this.node.startDownload({ name, outDir: this.outDir, sha256Prefix: sha256, window: entry.window, onPart: (part) => (entry.part = part) });
    finished.then(
      (result) => (entry.done = result.path),
      (error: unknown) => (entry.failed = (error as Error).message),
    );
    return key;
  }

  /** The bytes of [start, end] of a playing file, as far as they are verified from `start` on. */
  async slice(key: string, start: number, end: number | undefined): Promise<Slice | undefined> {
    const entry = this.playing.get(key);
    if (!entry) return undefined;
    const last = Math.min(end ?? entry.size - 1, entry.size - 1, start + PLAY_CHUNK_BYTES - 1);
    if (start > last) throw new P2PError('BAD_RANGE', `bytes ${start}- are past the end of ${entry.size}`);
    const upTo = await this.verifiedFrom(entry, start, last);
    return { start, end: upTo, size: entry.size, bytes: await readAt(entry, start, upTo - start + 1) };
  }

  /** Waits until the piece holding `start` is verified (asking for it first), then how far from there is. */
  private async verifiedFrom(entry: Playing, start: number, last: number): Promise<number> {
    const deadline = Date.now() + PLAY_WAIT_MS;
    for (;;) {
      if (entry.done) return last;
      if (entry.failed) throw new P2PError('HOLDER_FAILED', entry.failed);
      const part = entry.part;
      if (part) {
        const { pieceSize } = part.geometry;
        const piece = Math.floor(start / pieceSize);
        entry.window.at(piece);
        if (part.isVerified(piece)) {
          let through = piece;
          while (through + 1 <= Math.floor(last / pieceSize) && part.isVerified(through + 1)) through++;
          return Math.min(last, (through + 1) * pieceSize - 1);
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new P2PError('TIMEOUT', `no holder sent the part of ${entry.name} the player asked for in ${PLAY_WAIT_MS / 1000} s`);
      if (part) await part.whenMore(part.verifiedPieces, Math.min(left, 500));
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Reads from the finished file, or from the part (never through a link); the part has become the file once done. */
async function readAt(entry: Playing, offset: number, length: number): Promise<Buffer> {
  // The finished file, the part, or (the part just renamed, the download not told yet) the file it became.
  const part = entry.part?.paths.part;
  const paths = [entry.done, part, part?.replace(/\.[0-9a-f]{12}\.part$/, '')].filter((p): p is string => p !== undefined);
  let handle: FileHandle | undefined;
  for (const path of paths) {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
    if (handle) break;
  }
  if (!handle) throw new P2PError('IO_ERROR', `the file of ${entry.name} is gone`);
  try {
    const bytes = Buffer.alloc(length);
    const { bytesRead } = await handle.read(bytes, 0, length, offset);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const MEDIA_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
  wav: 'audio/wav',
};

/** The extensions the page offers to play (a browser may still not know the codec inside). */
export const PLAYABLE = new Set(Object.keys(MEDIA_TYPES));

/** The media type of a playing file, by its name's extension. */
export function mediaType(key: string, players: Players): string {
  const extension = players.nameOf(key)?.split('.').at(-1)?.toLowerCase() ?? '';
  return MEDIA_TYPES[extension] ?? 'application/octet-stream';
}
