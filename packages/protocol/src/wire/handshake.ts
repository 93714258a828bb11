import type { Socket } from 'node:net';
import { HANDSHAKE_TIMEOUT_MS, PROTOCOL_VERSION } from '../core/constants.js';
import { P2PError, RemoteError } from '../core/errors.js';
import { agreedFeatures, type Feature, isFeature } from '../core/features.js';
import { isMembershipProof, membershipMaterial, membershipProof } from './membership.js';
import { type Invite, inviteProof } from './invite.js';
import { type ErrorMessage, Hello, type Welcome } from './messages.js';
import { terminalSafe } from '../core/terminal.js';

/** Turns an `error` frame from the other side into a RemoteError with the same (wire) code. */
export function remoteError(message: ErrorMessage, from: string): RemoteError {
  return new RemoteError(message.code, terminalSafe(message.message), from);
}

/** What the opening exchange settled, on either side. */
export interface Handshake<Opening> {
  /** The other side's hello (server) or welcome (client). */
  opening: Opening;
  /** The features in force on this connection. */
  features: ReadonlySet<Feature>;
}

export interface ClientHandshakeOptions {
  agent: string;
  features: readonly Feature[];
  /** `host:port` of the server, for messages. */
  from: string;
  /** The network key to prove, if the client has one (the server may be open and not need it). */
  networkKey?: Buffer;
  /** An invite to redeem (a members network's tracker): its secret is proved, never sent. */
  invite?: Invite;
  timeoutMs?: number;
}

/** Client side of the opening exchange: send `hello` naming what we understand, expect `welcome`. */
export async function clientHandshake(
  connection: { socket: Socket; send(message: Hello): Promise<void>; receive(timeoutMs?: number): Promise<{ type: string }> },
  options: ClientHandshakeOptions,
): Promise<Handshake<Welcome>> {
  const proof = options.networkKey && membershipProof(options.networkKey, membershipMaterial(connection.socket));
  const invite = options.invite && inviteProof(options.invite, connection.socket);
  await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: options.agent, features: [...options.features], ...(proof && { proof }), ...(invite && { invite }) });
  const reply = await connection.receive(options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  if (reply.type === 'error') throw remoteError(reply as ErrorMessage, options.from);
  if (reply.type !== 'welcome') throw new P2PError('UNEXPECTED_MESSAGE', `${options.from} answered hello with "${reply.type}"`);
  const welcome = reply as Welcome;
  // A server may only agree to what we named; anything else it lists is ignored.
  const features = welcome.features.filter((name) => isFeature(name) && options.features.includes(name)) as Feature[];
  return { opening: welcome, features: new Set(features) };
}

export interface ServerHandshakeOptions {
  agent: string;
  /** Features this server offers; the welcome lists those the client named too. */
  features: readonly Feature[];
  timeoutMs?: number;
  /** More fields of the welcome (the tracker's heartbeat settings). */
  welcome?: Pick<Welcome, 'heartbeatMs' | 'peerTimeoutMs'>;
  /** The key of a private network: a hello without a valid proof of it is ACCESS_DENIED. */
  networkKey?: Buffer;
  /**
   * A last word on the client, once its hello (and key proof) are read and the features agreed, before
   * the welcome: an error refuses it (a banned client, in the words its features allow; one that is not
   * a member), anything else adds to the welcome (a member's name and ticket).
   */
  admit?: (hello: Hello, features: ReadonlySet<Feature>) => Admission | Promise<Admission>;
}

/** What `admit` makes of a client: a refusal, or what its welcome says beyond the rest. */
export type Admission = P2PError | Partial<Pick<Welcome, 'network' | 'member' | 'ticket' | 'signers'>> | undefined;

/**
 * Server side of the opening exchange: the first frame must be a `hello` of our version, within the
 * deadline. A hello of another version gets VERSION_MISMATCH even if its shape has changed.
 */
export async function serverHandshake(
  connection: { socket: Socket; send(message: Welcome): Promise<void>; receiveValue(timeoutMs?: number): Promise<unknown> },
  options: ServerHandshakeOptions,
): Promise<Handshake<Hello>> {
  const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
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
  if (options.networkKey && !isMembershipProof(options.networkKey, membershipMaterial(connection.socket), hello.data.proof)) {
    throw new P2PError(
      'ACCESS_DENIED',
      hello.data.proof ? 'wrong network key: this network is private and the proof in the hello does not match its key' : 'this network is private: the hello carried no proof of its key',
    );
  }
  const features = agreedFeatures(options.features, hello.data.features);
  const admission = await options.admit?.(hello.data, new Set(features));
  if (admission instanceof P2PError) throw admission;
  const network = options.networkKey ? 'private' : 'open';
  await connection.send({ type: 'welcome', protocol: PROTOCOL_VERSION, agent: options.agent, features, network, ...options.welcome, ...admission });
  return { opening: hello.data, features: new Set(features) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
