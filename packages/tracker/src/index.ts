export { loadTrackerSettings, TRACKER_DEFAULTS, TrackerSettings } from './config.js';
export { DEFAULT_TRACKER_LIMITS, type TrackerLimits } from './limits.js';
export { TRACKER_AGENT, type TrackerOptions, TrackerServer } from './server.js';
export { SCHEMA_VERSION, TrackerStore } from './store.js';
