import { EventEmitter } from 'node:events';
import type { Service } from 'bonjour-service';
import { openMdns, type Mdns } from './mdns.js';
import { type AnnouncedTracker, readAnnouncement, SERVICE_TYPE } from './tracker-service.js';

/** How long a look for trackers waits for a first answer, in ms. */
export const DISCOVERY_WAIT_MS = 3000;
/** After the first answer, how long it waits for others, in ms: responders answer within ~120 ms (RFC 6762 §6). */
export const DISCOVERY_SETTLE_MS = 600;
/** Most trackers kept from one look: anyone on the LAN can answer, and answer often. */
export const MAX_DISCOVERED_TRACKERS = 32;

export interface BrowseOptions {
  /** The interface address to look on; undefined: every IPv4 interface. */
  iface?: string | undefined;
  waitMs?: number;
  settleMs?: number;
  /** Answers that are not a tracker's, with why (for the debug log). */
  onIgnored?: (why: string) => void;
  onError?: (error: Error) => void;
}

/**
 * The trackers that answer on the LAN within `waitMs`, or within `settleMs` of the first answer: a
 * LAN with one tracker answers in milliseconds, and one with none costs `waitMs`. Sorted by name.
 */
export async function browseTrackers(options: BrowseOptions = {}): Promise<AnnouncedTracker[]> {
  const browser = new TrackerBrowser(options);
  try {
    await new Promise<void>((resolve) => {
      const all = setTimeout(resolve, options.waitMs ?? DISCOVERY_WAIT_MS);
      browser.once('up', () => {
        clearTimeout(all);
        setTimeout(resolve, options.settleMs ?? DISCOVERY_SETTLE_MS);
      });
    });
    return browser.trackers;
  } finally {
    await browser.close();
  }
}

export interface TrackerBrowserEvents {
  up: [tracker: AnnouncedTracker];
  down: [tracker: AnnouncedTracker];
}

/**
 * Watches the LAN for trackers for as long as it is open (the page of `peer ui` lists them as they come
 * and go): a tracker that says goodbye, or whose records expire, is dropped.
 */
export class TrackerBrowser extends EventEmitter<TrackerBrowserEvents> {
  private readonly mdns: Mdns;
  private readonly found = new Map<string, AnnouncedTracker>();

  constructor(private readonly options: BrowseOptions = {}) {
    super();
    this.mdns = openMdns(options.iface, options.onError ?? (() => {}));
    const browser = this.mdns.bonjour.find({ type: SERVICE_TYPE });
    const key = (service: Service) => `${service.name}\u0000${service.fqdn}`;
    browser.on('up', (service) => this.add(key(service), service));
    browser.on('txt-update', (service) => this.add(key(service), service));
    browser.on('srv-update', (service) => this.add(key(service), service));
    browser.on('down', (service) => {
      const gone = this.found.get(key(service));
      if (!gone) return;
      this.found.delete(key(service));
      this.emit('down', gone);
    });
  }

  /** The trackers announced now, by name. */
  get trackers(): AnnouncedTracker[] {
    return [...this.found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  close(): Promise<void> {
    return this.mdns.close();
  }

  private add(key: string, service: Service): void {
    const tracker = readAnnouncement(service);
    if (typeof tracker === 'string') return this.options.onIgnored?.(`an answer named ${JSON.stringify(String(service.name).slice(0, 63))} is not a tracker's: ${tracker}`);
    if (!this.found.has(key) && this.found.size >= MAX_DISCOVERED_TRACKERS) return this.options.onIgnored?.(`more than ${MAX_DISCOVERED_TRACKERS} trackers answered`);
    this.found.set(key, tracker);
    this.emit('up', tracker);
  }
}
