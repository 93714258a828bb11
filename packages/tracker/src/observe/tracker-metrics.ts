import type { TrackerRequest } from '@p2pservice/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TrackerObserver } from '../server/peer-state.js';
import type { TrackerStore } from '../store/store.js';
import { RecentActivity } from './activity.js';

/** Request latency buckets, seconds: from a ping on loopback to a search at its budget. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the metrics read from the running tracker when they are scraped. */
export interface TrackerProbe {
  connections(): number;
  serving(): boolean;
  /** Searches its connections watch (feature watch). */
  watches(): number;
}

/**
 * The tracker's numbers in Prometheus' terms, on a registry of its own: what it is doing (connections,
 * requests by type, errors by code, latencies, database timings) and what the network holds (peers,
 * files, contents, read from the database at each scrape). Also keeps the recent joins and leaves for the
 * status page.
 */
export class TrackerMetrics implements TrackerObserver {
  readonly registry = new Registry();
  readonly activity = new RecentActivity();
  readonly startedAt = new Date();
  private readonly requests: Counter<'type'>;
  private readonly errors: Counter<'code'>;
  private readonly latency: Histogram<'type'>;
  private readonly storeLatency: Histogram<'operation' | 'backend'>;
  private readonly joins: Counter;
  private readonly leaves: Counter;
  private probe: TrackerProbe | undefined;

  constructor(store: TrackerStore) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'p2p_tracker_requests_total', help: 'Requests answered, by type', labelNames: ['type'], registers });
    this.errors = new Counter({ name: 'p2p_tracker_errors_total', help: 'Errors sent to peers (or ending their connection), by code', labelNames: ['code'], registers });
    this.latency = new Histogram({ name: 'p2p_tracker_request_duration_seconds', help: 'Time from a request to its answer, by type', labelNames: ['type'], buckets: REQUEST_BUCKETS, registers });
    this.storeLatency = new Histogram({
      name: 'p2p_tracker_store_duration_seconds',
      help: 'Time of each database operation, by operation and backend (sqlite or postgres)',
      labelNames: ['operation', 'backend'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.joins = new Counter({ name: 'p2p_tracker_peers_joined_total', help: 'Peers that registered a share with this tracker', registers });
    this.leaves = new Counter({ name: 'p2p_tracker_peers_left_total', help: "Peers of this tracker whose rows left with their connection", registers });
    const probe = () => this.probe;
    new Gauge({
      name: 'p2p_tracker_connections',
      help: 'Connections open to this tracker now',
      registers,
      collect() {
        this.set(probe()?.connections() ?? 0);
      },
    });
    new Gauge({
      name: 'p2p_tracker_watches',
      help: 'Searches the connections of this tracker watch (wishlists told of new matches)',
      registers,
      collect() {
        this.set(probe()?.watches() ?? 0);
      },
    });
    new Gauge({
      name: 'p2p_tracker_serving',
      help: '1 while this tracker holds its lease on the database and serves, 0 while it rejoins',
      registers,
      collect() {
        this.set(probe()?.serving() ? 1 : 0);
      },
    });
    // The network's numbers come from the database at each scrape: they are everyone's, not this process's.
    const network = [
      ['p2p_tracker_peers', 'Peers sharing on the network (every tracker of its database)', async () => (await store.counts()).peers],
      ['p2p_tracker_files', 'Files listed on the network', async () => (await store.counts()).files],
      ['p2p_tracker_contents', 'Distinct contents (name and sha256) listed on the network', () => store.countContents()],
      ['p2p_tracker_members', 'Members in good standing (key and members networks)', async () => (await store.members.counts()).members],
      ['p2p_tracker_members_revoked', 'Members the operator revoked', async () => (await store.members.counts()).revoked],
    ] as const;
    for (const [name, help, read] of network) {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    }
  }

  /** Connects the gauges that read the running tracker. */
  watch(probe: TrackerProbe): void {
    this.probe = probe;
  }

  requestStarted(type: TrackerRequest['type']): () => void {
    const stop = this.latency.startTimer({ type });
    return () => {
      stop();
      this.requests.inc({ type });
    };
  }

  errorSent(code: string): void {
    this.errors.inc({ code });
  }

  peerJoined(address: string, files: number): void {
    this.joins.inc();
    this.activity.add({ at: new Date(), kind: 'joined', address, files });
  }

  peerLeft(address: string): void {
    this.leaves.inc();
    this.activity.add({ at: new Date(), kind: 'left', address });
  }

  storeTimer(operation: string, backend: string): () => void {
    const stop = this.storeLatency.startTimer({ operation, backend });
    return () => void stop();
  }
}
