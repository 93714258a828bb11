import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Bonjour } from 'bonjour-service';

/**
 * One multicast DNS endpoint (bonjour-service over multicast-dns) on the interface given, or on every
 * IPv4 interface when none is: the one place that knows how that library is started and stopped.
 */
export interface Mdns {
  bonjour: Bonjour;
  close(): Promise<void>;
}

/**
 * Opens it. Socket errors (no multicast route, port 5353 refused) go to `onError`, never up the stack:
 * the library's default for them is to throw where nothing can catch.
 */
export function openMdns(iface: string | undefined, onError: (error: Error) => void): Mdns {
  // Bound to the wildcard address even on one interface: a socket bound to a unicast address never
  // receives what is sent to the multicast group.
  // The options go to multicast-dns as they are; bonjour-service types them as a service's.
  const socketOptions = { ...(iface !== undefined && { interface: iface }), bind: '0.0.0.0' };
  const bonjour = new Bonjour(socketOptions as ConstructorParameters<typeof Bonjour>[0], onError);
  const socket = (bonjour as unknown as { server: { mdns: NodeJS.EventEmitter } }).server.mdns;
  socket.on('error', onError);
  socket.on('warning', onError);
  let closed: Promise<void> | undefined;
  return {
    bonjour,
    close: () => (closed ??= new Promise<void>((resolve) => bonjour.destroy(() => resolve()))),
  };
}

/** Fewest ms between two answers to one question: RFC 6762 §6 multicasts a record at most once a second. */
export const MDNS_ANSWER_INTERVAL_MS = 1000;

interface Question {
  name: string;
  type: string;
}

/** What this module uses of bonjour-service's responder, which the library keeps private. */
interface Responder {
  mdns: NodeJS.EventEmitter;
  registry: Record<string, unknown[]>;
  recordsFor(name: string, type: string): unknown[];
  respondToQuery(query: { questions: Question[] }): void;
}

/**
 * Paces a responder's answers: each question it has records for is answered at once, then at most once
 * a second, a repeat in between being answered at the end of that second (a peer waits 3 s). A sender
 * flooding the LAN with queries thus gets the tracker to send a few packets a second, not one each;
 * questions about anything else cost a lookup and nothing more. Returns the stop.
 */
export function paceAnswers(bonjour: Bonjour): () => void {
  const responder = (bonjour as unknown as { server: Responder }).server;
  const lastAnswered = new Map<string, number>();
  const held = new Map<string, Question>();
  let timer: NodeJS.Timeout | undefined;
  const ours = (q: Question) =>
    (q.type === 'ANY' ? Object.keys(responder.registry) : [q.type]).some((type) => responder.recordsFor(String(q.name), type).length > 0);
  const answer = (key: string, question: Question) => {
    lastAnswered.set(key, Date.now());
    responder.respondToQuery({ questions: [question] });
  };
  const flush = () => {
    timer = undefined;
    for (const [key, question] of held) answer(key, question);
    held.clear();
  };
  responder.mdns.removeAllListeners('query');
  responder.mdns.on('query', (query: { questions?: Question[] }) => {
    for (const question of query.questions ?? []) {
      if (!ours(question)) continue;
      // Keys are of questions this responder has records for: a handful, however many are asked.
      const key = `${question.type} ${String(question.name).toLowerCase()}`;
      const since = Date.now() - (lastAnswered.get(key) ?? -Infinity);
      if (since >= MDNS_ANSWER_INTERVAL_MS) answer(key, question);
      else {
        held.set(key, question);
        timer ??= setTimeout(flush, MDNS_ANSWER_INTERVAL_MS - since).unref();
      }
    }
  });
  // Stops answering what is held: called before the socket closes, where a late send would throw.
  return () => {
    clearTimeout(timer);
    held.clear();
  };
}

/**
 * The IPv4 interface address to announce on for a listener on `host`, where the listener can be reached:
 * every interface for a wildcard host (undefined), the loopback interface for a loopback host, the
 * interface holding the address otherwise. null when no interface holds it (an IPv6-only interface, say):
 * then nothing is announced.
 */
export function announceInterface(host: string, interfaces = networkInterfaces()): string | undefined | null {
  if (host === '0.0.0.0' || host === '::' || host === '') return undefined;
  if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return '127.0.0.1';
  if (isIP(host) === 4) return host;
  for (const addresses of Object.values(interfaces)) {
    if (!addresses?.some((info) => info.address.toLowerCase() === host.toLowerCase())) continue;
    return addresses.find((info) => info.family === 'IPv4')?.address ?? null;
  }
  return null;
}
