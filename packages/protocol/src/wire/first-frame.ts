import type { Socket } from 'node:net';
import { formatMs } from '../core/duration.js';
import { P2PError } from '../core/errors.js';
import { FrameDecoder } from './frame.js';

/**
 * Reads the first frame of a socket no conversation has taken yet, and leaves the socket paused with any
 * bytes after that frame put back, so a FramedConnection made next starts right after it. `bytes` are
 * the frame's own bytes, to put back too when the frame belongs to the conversation after all. For the
 * opening of a connect-back connection (README#connect-back), before the holder conversation begins.
 * Rejects with TIMEOUT, CONNECTION_CLOSED, FRAME_TOO_LARGE or BAD_JSON, every byte read put back: the
 * conversation that takes the socket next meets them as if nothing had been read.
 */
export function readFirstFrame(socket: Socket, timeoutMs: number, maxFrameBytes: number): Promise<{ value: unknown; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(maxFrameBytes);
    const received: Buffer[] = [];
    const timer = setTimeout(() => finish(new P2PError('TIMEOUT', `no opening frame within ${formatMs(timeoutMs)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      received.push(chunk);
      decoder.push(chunk);
      let frame: { value: unknown } | undefined;
      try {
        frame = decoder.readFrame();
      } catch (error) {
        return finish(error as Error);
      }
      if (frame) finish(undefined, frame.value);
    };
    const onClose = () => finish(new P2PError('CONNECTION_CLOSED', 'the connection closed before its opening frame'));
    function finish(error: Error | undefined, value?: unknown): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error) {
        if (received.length > 0 && !socket.destroyed) socket.unshift(Buffer.concat(received));
        return reject(error);
      }
      let rest = 0;
      for (let chunk = decoder.readRaw(Infinity); chunk; chunk = decoder.readRaw(Infinity)) rest += chunk.length;
      const all = Buffer.concat(received);
      if (rest > 0) socket.unshift(all.subarray(all.length - rest));
      resolve({ value, bytes: all.subarray(0, all.length - rest) });
    }
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}
