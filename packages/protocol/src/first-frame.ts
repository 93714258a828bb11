import type { Socket } from 'node:net';
import { formatMs } from './duration.js';
import { P2PError } from './errors.js';
import { FrameDecoder } from './frame.js';

/**
 * Reads the first frame of a socket no conversation has taken yet, and leaves the socket paused with any
 * bytes after that frame put back, so a FramedConnection made next starts right after it. For the
 * opening of a connect-back connection (README#connect-back), before the holder conversation begins.
 * Rejects with TIMEOUT, CONNECTION_CLOSED, FRAME_TOO_LARGE or BAD_JSON.
 */
export function readFirstFrame(socket: Socket, timeoutMs: number, maxFrameBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(maxFrameBytes);
    const timer = setTimeout(() => finish(new P2PError('TIMEOUT', `no opening frame within ${formatMs(timeoutMs)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
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
    function finish(error: Error | undefined, value?: unknown) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error) return reject(error);
      const rest: Buffer[] = [];
      for (let chunk = decoder.readRaw(Infinity); chunk; chunk = decoder.readRaw(Infinity)) rest.push(chunk);
      if (rest.length > 0) socket.unshift(Buffer.concat(rest));
      resolve(value);
    }
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}
