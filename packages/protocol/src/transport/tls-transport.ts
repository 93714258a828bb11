import { X509Certificate } from 'node:crypto';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type SecureContext, TLSSocket } from 'node:tls';
import { type Endpoint, formatAddress } from './address.js';
import { CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS, MAX_WAITING_HANDSHAKES, MAX_WAITING_HANDSHAKES_PER_ADDRESS, PROTOCOL_VERSION } from '../core/constants.js';
import { HandshakeGate } from './handshake-gate.js';
import { formatMs } from '../core/duration.js';
import { P2PError } from '../core/errors.js';
import { refuseConnection } from '../wire/refuse.js';
import type { Identity } from '../identity/identity.js';
import { identityOfCertificate } from '../identity/identity-id.js';
import { IdentityMismatchError } from '../identity/mismatch.js';
import { connectionKey, connectTo, remotePeerOf, startListening } from './tcp-transport.js';
import type { DialOptions, Listener, ListenOptions, RemotePeer, Transport } from './transport.js';

/*
 * TLS 1.3 under every connection (spec: TLS). Both ends present self-signed certificates; nobody is
 * trusted for being signed by someone, only for proving the identity (certificate fingerprint) that was
 * expected of it — the tracker's from its address or from the first meeting, a holder's from the
 * tracker's list. There is no plaintext mode and no older TLS version to fall back to.
 */

const TLS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/** First byte of a TLS record carrying a handshake; a protocol-1 frame starts with a length byte 0x00. */
const TLS_HANDSHAKE_RECORD = 0x16;

export interface TlsTransportOptions {
  /** Presented to the other side: required to listen; when dialing, how a tracker learns who shares. */
  identity?: Identity;
  /** A connection that has not finished its TLS handshake by then is closed. */
  handshakeTimeoutMs?: number;
  /** Handshakes a listener runs at once, in all and per sender (address, or IPv6 /64); more wait in line. */
  maxPendingHandshakes?: number;
  maxPendingPerAddress?: number;
  /** Connections waiting for a handshake slot, in all and per sender; beyond, closed at once. */
  maxWaitingHandshakes?: number;
  maxWaitingPerAddress?: number;
}

/** Identities already checked on a socket (by dial or listen), so that asking again costs nothing. */
const checked = new WeakMap<Socket, string | undefined>();

/**
 * The identity `socket`'s other end proved in its TLS handshake, after checking that its certificate is
 * well-formed, self-signed and valid today (BAD_CERTIFICATE otherwise); undefined if it presented none.
 */
export function tlsIdentityOf(socket: Socket, where = 'the other side'): string | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  if (checked.has(socket)) return checked.get(socket);
  const id = checkPresentedCertificate(socket, where);
  checked.set(socket, id);
  return id;
}

function checkPresentedCertificate(socket: TLSSocket, where: string): string | undefined {
  const der = socket.getPeerCertificate(true).raw;
  if (!der || der.length === 0) return undefined;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw new P2PError('BAD_CERTIFICATE', `${where} presented a certificate that cannot be read`, 'it is not a P2PService identity: check the address');
  }
  if (!certificate.verify(certificate.publicKey)) throw new P2PError('BAD_CERTIFICATE', `${where} presented a certificate that is not self-signed`, 'it is not a P2PService identity: check the address');
  const now = Date.now();
  if (now < Date.parse(certificate.validFrom)) throw new P2PError('BAD_CERTIFICATE', `${where} presented a certificate not valid before ${certificate.validFrom}`, 'check the clocks');
  if (now > Date.parse(certificate.validTo)) {
    throw new P2PError('BAD_CERTIFICATE', `${where} presented a certificate that expired on ${certificate.validTo}`, 'its owner must make a new identity (and give out the new address)');
  }
  return identityOfCertificate(certificate.raw);
}

/** What a listener says to a client that does not speak TLS (a protocol-1 program), before closing. */
function answerPlaintext(raw: Socket): void {
  refuseConnection(raw, new P2PError('VERSION_MISMATCH', `this side speaks protocol ${PROTOCOL_VERSION}, inside TLS; upgrade to a P2PService that does`));
}

/** Resolves once `socket`'s TLS handshake is done; rejects naming the address and, in words, why not. */
function secured(socket: TLSSocket, timeoutMs: number, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => settle(new P2PError('CONNECT_FAILED', `cannot connect to ${where}: no TLS handshake within ${formatMs(timeoutMs)}`)), timeoutMs);
    const onError = (error: NodeJS.ErrnoException) => settle(handshakeError(error, where));
    const onClose = () => settle(new P2PError('CONNECT_FAILED', `cannot connect to ${where}: it closed the connection during the TLS handshake`));
    const onSecure = () => settle();
    function settle(error?: P2PError) {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    }
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

function handshakeError(error: NodeJS.ErrnoException, where: string): P2PError {
  if (error.code && NOT_TLS.has(error.code)) {
    return new P2PError('VERSION_MISMATCH', `${where} does not speak TLS: it may run an older P2PService (protocol 1)`, 'upgrade it: this release speaks protocol 2, always inside TLS');
  }
  if (error.code === 'ECONNRESET') return new P2PError('CONNECT_FAILED', `cannot connect to ${where}: connection reset during the TLS handshake`);
  return new P2PError('CONNECT_FAILED', `cannot connect to ${where}: TLS handshake failed (${error.message})`, undefined, { cause: error });
}

// OpenSSL's words for "the other side did not answer in TLS": it speaks something else, e.g. protocol 1.
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING']);

/** TLS 1.3 with the identity checks of the spec. One instance per identity; cheap to keep. */
export function tlsTransport(options: TlsTransportOptions = {}): Transport {
  const { identity } = options;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const context: SecureContext = createSecureContext({ ...TLS, ...(identity && { key: identity.key, cert: identity.cert }) });

  return {
    canListen: identity !== undefined,

    async dial(to: Endpoint, dialOptions: DialOptions = {}): Promise<Socket> {
      const where = formatAddress(to);
      const timeoutMs = dialOptions.timeoutMs ?? CONNECT_TIMEOUT_MS;
      const raw = await connectTo(to, timeoutMs);
      // Names are not what is trusted here (identities are), so no host name is checked or sent.
      const socket = tlsConnect({ socket: raw, secureContext: context, rejectUnauthorized: false, checkServerIdentity: () => undefined, ...TLS });
      try {
        await secured(socket, Math.max(timeoutMs, handshakeTimeoutMs), where);
        const presented = tlsIdentityOf(socket, where);
        if (!presented) throw new P2PError('BAD_CERTIFICATE', `${where} presented no certificate`);
        if (to.id && presented !== to.id) throw new IdentityMismatchError(where, to.id, presented);
        return socket;
      } catch (error) {
        socket.destroy();
        throw error;
      }
    },

    async listen(listenOptions: ListenOptions, onConnection: (socket: Socket, remote: RemotePeer) => void): Promise<Listener> {
      if (!identity) throw new P2PError('LISTEN_FAILED', 'a TLS listener needs an identity to present');
      const maxPending = options.maxPendingHandshakes ?? MAX_PENDING_HANDSHAKES;
      const gate = new HandshakeGate({
        maxPending,
        maxPendingPerSender: options.maxPendingPerAddress ?? MAX_PENDING_HANDSHAKES_PER_ADDRESS,
        maxWaiting: options.maxWaitingHandshakes ?? MAX_WAITING_HANDSHAKES,
        maxWaitingPerSender: options.maxWaitingPerAddress ?? MAX_WAITING_HANDSHAKES_PER_ADDRESS,
      });

      // Client certificates are asked for but not required: a tool that only lists needs none.
      // (A Server builds its own credentials from key and cert; it takes no ready-made secureContext.)
      const tlsServer = createTlsServer({ key: identity.key, cert: identity.cert, requestCert: true, rejectUnauthorized: false, handshakeTimeout: handshakeTimeoutMs, ...TLS });
      tlsServer.on('tlsClientError', (_error, socket) => socket.destroy());
      // When each connection arrived, by its ends, until its handshake is done (the hello deadline counts from then).
      const arrivals = new Map<string, number>();
      tlsServer.on('secureConnection', (socket: TLSSocket) => {
        const arrivedAt = arrivals.get(connectionKey(socket));
        const remote = { ...remotePeerOf(socket), ...(arrivedAt !== undefined && { arrivedAt }) };
        gate.secured(socket);
        let id: string | undefined;
        try {
          id = tlsIdentityOf(socket, remote.host);
        } catch {
          // A bad certificate gets no conversation.
          socket.destroy();
          return;
        }
        onConnection(socket, { ...remote, ...(id && { id }) });
      });

      const server = createTcpServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000, pauseOnConnect: true });
      server.on('connection', (raw) => {
        raw.on('error', () => undefined);
        const key = connectionKey(raw);
        arrivals.set(key, Date.now());
        raw.once('close', () => arrivals.delete(key));
        // One deadline from arrival: waiting for a handshake slot and saying the first bytes both count.
        const deadline = setTimeout(() => raw.destroy(), handshakeTimeoutMs);
        raw.once('close', () => clearTimeout(deadline));
        const admitted = gate.admit(raw, () => {
          // The first bytes say who speaks: TLS goes on to the handshake (whose own deadline then
          // applies); anything else is answered in plain, as a protocol-1 program understands, and closed.
          raw.once('data', (first: Buffer) => {
            raw.pause();
            clearTimeout(deadline);
            if (first[0] !== TLS_HANDSHAKE_RECORD) {
              answerPlaintext(raw);
              return;
            }
            raw.unshift(first);
            tlsServer.emit('connection', raw);
          });
          raw.resume();
        });
        if (!admitted) raw.destroy();
      });

      return startListening(server, listenOptions);
    },
  };
}
