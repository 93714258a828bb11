import type { Socket } from 'node:net';
import {
  type Admission,
  type Feature,
  type Hello,
  isInviteProof,
  isMembershipProof,
  membershipMaterial,
  P2PError,
  type RemotePeer,
  MAX_TICKET_SIGNERS,
  type Ticket,
  type TicketSigner,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { Member, MemberList, Redemption } from '../store/store.js';
import { banTime } from './ban-watch.js';

/** A tracker that has not recorded itself as a signer for this long (it renews hourly) is no longer one. */
export const SIGNER_FORGET_MS = 7 * 86_400_000;

/** Who may come in (README#members): anyone, whoever proves the network key, or the members only. */
export type NetworkKind = 'open' | 'key' | 'members';

export interface MemberGateOptions {
  kind: NetworkKind;
  members: MemberList;
  /** The network key: on a key network every client proves it (the handshake checks); on a members network, a key-holder may enrol. */
  networkKey?: Buffer;
  signer: TicketSigner;
  ticketLifetimeMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Admits clients by the kind of network: on a key network a key-holder becomes a member the first time it
 * comes (so the operator sees it, and can revoke it); on a members network only members get in, by an
 * invite the first time. Revoked members are refused on both. Admitted members of a members network get a
 * ticket for its holders.
 */
export class MemberGate {
  private readonly now: () => number;

  constructor(private readonly options: MemberGateOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The network's trackers that sign tickets, this one first: read from the database at each member's
   * hello, so a holder's welcome names every tracker started before it (each records itself before it
   * listens). A tracker not heard of for SIGNER_FORGET_MS is left out.
   */
  private async signers(): Promise<string[]> {
    const own = this.options.signer.id;
    const recorded = await this.options.members.signers(this.now() - SIGNER_FORGET_MS, MAX_TICKET_SIGNERS);
    return [own, ...recorded.filter((id) => id !== own)].slice(0, MAX_TICKET_SIGNERS);
  }

  get kind(): NetworkKind {
    return this.options.kind;
  }

  /** The handshake's last word on a client: a refusal, or what its welcome adds. */
  async admit(socket: Socket, remote: RemotePeer, hello: Hello, features: ReadonlySet<Feature>): Promise<Admission> {
    const { kind } = this.options;
    if (kind === 'open') return undefined;
    const identity = remote.id;
    if (kind === 'key') {
      // An anonymous client proved the key too: it is let in as before, but nobody can name it.
      if (identity === undefined) return undefined;
      const member = (await this.options.members.seen(identity, this.now())) ?? (await this.options.members.enrol(identity, identity.slice(0, 7), this.now()));
      return member.revokedAt === null ? undefined : revoked(member);
    }
    if (identity === undefined) return new P2PError('ACCESS_DENIED', 'this network admits its members only, known by their identities, and this client presented none: ask its operator for an invite');
    let member = await this.options.members.seen(identity, this.now());
    if (member === undefined && hello.invite) member = this.redeemed(hello.invite.id, await this.redeem(socket, identity, hello.invite));
    if (member === undefined && this.options.networkKey && isMembershipProof(this.options.networkKey, membershipMaterial(socket), hello.proof)) {
      member = await this.options.members.enrol(identity, identity.slice(0, 7), this.now());
    }
    if (member === undefined) return new P2PError('ACCESS_DENIED', 'this network admits its members only, and this identity is none: ask its operator for an invite');
    if (member.revokedAt !== null) return revoked(member);
    if (!features.has('members')) return { network: 'private' };
    return { network: 'members', member: { name: member.name }, ticket: this.ticketFor(identity), signers: await this.signers() };
  }

  /** A ticket for `member`, valid for the ticket lifetime from now. */
  ticketFor(member: string): Ticket {
    return this.options.signer.issue(member, this.now() + this.options.ticketLifetimeMs);
  }

  private redeem(socket: Socket, identity: string, invite: NonNullable<Hello['invite']>): Promise<Redemption> {
    return this.options.members.redeem(invite.id, identity, this.now(), (secret) => isInviteProof(secret, socket, invite));
  }

  /** The member an invite made, or the refusal that says why it did not (thrown as the handshake's answer). */
  private redeemed(id: string, redemption: Redemption): Member {
    if ('member' in redemption) {
      this.options.logger.info({ identity: redemption.member.identity, name: redemption.member.name, invite: id }, 'a new member joined by invite');
      return redemption.member;
    }
    const why = {
      unknown: `invite ${id} is not known here (withdrawn, or never made): ask the operator for a new one`,
      used: `invite ${id} has been used already: ask the operator for a new one`,
      expired: `invite ${id} has expired: ask the operator for a new one`,
      'wrong-proof': `the proof of invite ${id} does not match its secret: copy the whole link again`,
      revoked: 'this identity was revoked from the network',
    }[redemption.refused];
    throw new P2PError('ACCESS_DENIED', why);
  }
}

function revoked(member: Member): P2PError {
  return new P2PError('ACCESS_DENIED', `this identity (${member.name}) was revoked from the network at ${banTime(member.revokedAt!)}`);
}
