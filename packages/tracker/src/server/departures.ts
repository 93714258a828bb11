import type { PeerId, TrackerStore } from '../store/store.js';

interface Departure {
  peer: PeerId;
  stop: AbortController;
  removal: Promise<boolean>;
}

/**
 * The rows of departed peers still being removed, by the identity that shared them. A peer restarted at
 * once comes back while the rows of its last run are still going (100 000 files take seconds to remove):
 * its new registration takes over what is left, and sending the same files again then touches only their
 * rows, instead of deleting them all and inserting them all again at the same time.
 */
export class Departures {
  private readonly byIdentity = new Map<string, Departure>();

  constructor(private readonly store: TrackerStore) {}

  /**
   * Removes `peer`, shared by `identity`, unless that identity takes it over first (takeOver). Resolves
   * true once it is removed, false when it was taken over.
   */
  async remove(identity: string | undefined, peer: PeerId): Promise<boolean> {
    const stop = new AbortController();
    const removal = this.store.removePeer(peer, stop.signal);
    if (identity === undefined) return removal;
    const departure = { peer, stop, removal };
    this.byIdentity.set(identity, departure);
    try {
      return await removal;
    } finally {
      if (this.byIdentity.get(identity) === departure) this.byIdentity.delete(identity);
    }
  }

  /**
   * Stops the removal of `identity`'s departed peer, if one is in progress, and returns that peer: its
   * rows left are the caller's to take over (startShare), or to remove (`remove`) if it cannot.
   */
  async takeOver(identity: string): Promise<PeerId | undefined> {
    const departure = this.byIdentity.get(identity);
    if (!departure) return undefined;
    this.byIdentity.delete(identity);
    departure.stop.abort();
    // Stopped between two slices: nothing is half done. It may have finished first.
    return (await departure.removal) ? undefined : departure.peer;
  }
}
