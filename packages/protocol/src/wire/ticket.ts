import { createPrivateKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import type { Ticket } from './messages.js';
import type { Identity } from '../identity/identity.js';
import { identityOfCertificate } from '../identity/identity-id.js';

/*
 * Tickets (README#tickets): on a members network the tracker signs, for each member it admits, that the
 * member may fetch from the network's holders until a time. Holders cannot ask the tracker on every
 * fetch; they check the signature once per ticket and the time on every fetch, so a member the operator
 * revokes can fetch for at most one ticket's lifetime more.
 */

/** The bytes a ticket's signature covers: a fixed label, the member, and the end, one per line. */
export function ticketBytes(member: string, until: number): Buffer {
  return Buffer.from(`p2pservice-ticket-v1\n${member}\n${until}`, 'utf8');
}

/** Signs tickets with a tracker's identity (its private key, and its certificate as the signer). */
export class TicketSigner {
  private readonly key: KeyObject;
  private readonly signer: string;
  /** The identity whose signature the tickets carry. */
  readonly id: string;

  constructor(identity: Identity) {
    this.id = identity.id;
    this.key = createPrivateKey(identity.key);
    this.signer = new X509Certificate(identity.cert).raw.toString('base64');
  }

  /** A ticket for `member`, valid until `until` (ms since the epoch). */
  issue(member: string, until: number): Ticket {
    const signature = sign('sha256', ticketBytes(member, until), this.key).toString('base64');
    return { member, until, signer: this.signer, signature };
  }
}

/** Why a ticket is refused, in words for an ACCESS_DENIED; undefined when it is good. */
export type TicketProblem = string | undefined;

/**
 * Checks tickets on a holder: the signer must be one of the trackers it trusts (`trusted(identity)`), the
 * signature good, the member the identity the client proved on this connection. Signers' keys are kept,
 * so a ticket costs one signature check, whoever brings it.
 */
export class TicketChecker {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly trusted: (signerId: string) => boolean) {}

  /** What is wrong with `ticket` for a client that proved identity `client` at time `now`; undefined when nothing is. */
  problem(ticket: Ticket, client: string | undefined, now: number): TicketProblem {
    if (client === undefined || ticket.member !== client) return 'the ticket is for another identity than the one this connection proved';
    if (ticket.until <= now) return 'the ticket has ended: the tracker no longer vouches for this member';
    const raw = Buffer.from(ticket.signer, 'base64');
    // The signer's identity is the hash of its certificate: checked before anything is parsed.
    const id = identityOfCertificate(raw);
    if (!this.trusted(id)) return "the ticket is not signed by this holder's tracker";
    const key = this.keyOf(id, raw);
    if (!key) return "the ticket's signer is not a certificate";
    const good = verify('sha256', ticketBytes(ticket.member, ticket.until), key, Buffer.from(ticket.signature, 'base64'));
    return good ? undefined : "the ticket's signature does not match";
  }

  /** The public key of a trusted tracker's certificate, parsed once. */
  private keyOf(id: string, raw: Buffer): KeyObject | undefined {
    const known = this.keys.get(id);
    if (known) return known;
    try {
      const key = new X509Certificate(raw).publicKey;
      this.keys.set(id, key);
      return key;
    } catch {
      return undefined;
    }
  }
}
