export { loadTrackerSettings, TRACKER_DEFAULTS, TrackerSettings } from './config.js';
export { DEFAULT_TRACKER_LIMITS, type TrackerLimits } from './limits.js';
export { TRACKER_FEATURES, type TrackerOptions, TrackerServer } from './server/tracker-server.js';
export { SQLITE_SCHEMA_VERSION } from './store/sqlite-schema.js';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite-store.js';
export type { PeerId, StoreCounts, TrackerStore } from './store/store.js';
export { TRACKER_AGENT, TRACKER_VERSION } from './version.js';
