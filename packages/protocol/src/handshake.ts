import { HANDSHAKE_TIMEOUT_MS, PROTOCOL_VERSION } from './constants.js';
import { type ErrorCode, ERROR_CODES, P2PError } from './errors.js';
import { type ErrorMessage, Hello, type Welcome } from './messages.js';
import { terminalSafe } from './terminal.js';

/** Turns an `error` frame from the other side into a P2PError with the same code. */
export function remoteError(message: ErrorMessage, from: string): P2PError {
  const code: ErrorCode = message.code in ERROR_CODES ? message.code : 'INTERNAL';
  return new P2PError(code, `${from}: ${terminalSafe(message.message)}`);
}

/** Client side of the opening exchange: send `hello`, expect `welcome` (or a coded error). */
export async function clientHandshake(
  connection: { send(message: Hello): Promise<void>; receive(timeoutMs?: number): Promise<{ type: string }> },
  agent: string,
  from: string,
  timeoutMs = HANDSHAKE_TIMEOUT_MS,
): Promise<Welcome> {
  await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent });
  const reply = await connection.receive(timeoutMs);
  if (reply.type === 'error') throw remoteError(reply as ErrorMessage, from);
  if (reply.type !== 'welcome') throw new P2PError('UNEXPECTED_MESSAGE', `${from} answered hello with "${reply.type}"`);
  return reply as Welcome;
}

/**
 * Server side of the opening exchange: the first frame must be a `hello` of our version, within the
 * deadline. A hello of another version gets VERSION_MISMATCH even if its shape has changed.
 */
export async function serverHandshake(
  connection: { send(message: Welcome): Promise<void>; receiveValue(timeoutMs?: number): Promise<unknown> },
  agent: string,
  timeoutMs = HANDSHAKE_TIMEOUT_MS,
  extra: Pick<Welcome, 'heartbeatMs' | 'peerTimeoutMs'> = {},
): Promise<Hello> {
  let value: unknown;
  try {
    value = await connection.receiveValue(timeoutMs);
  } catch (error) {
    if (error instanceof P2PError && error.code === 'TIMEOUT') {
      throw new P2PError('HANDSHAKE_TIMEOUT', `no hello within ${timeoutMs} ms of connecting`);
    }
    throw error;
  }
  if (isObject(value) && value.type === 'hello' && typeof value.protocol === 'number' && value.protocol !== PROTOCOL_VERSION) {
    throw new P2PError('VERSION_MISMATCH', `this side speaks protocol ${PROTOCOL_VERSION}, hello said ${value.protocol}`);
  }
  const hello = Hello.safeParse(value);
  if (!hello.success) {
    throw new P2PError('UNEXPECTED_MESSAGE', 'the first message must be a valid hello');
  }
  await connection.send({ type: 'welcome', protocol: PROTOCOL_VERSION, agent, ...extra });
  return hello.data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
