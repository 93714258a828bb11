// @p2pservice/cli: what the `tracker` and `peer` commands share (settings, .env, logs, errors,
// completion), kept out of the protocol library so that a tool built on it installs none of this.
export * from './dotenv.js';
export * from './paths.js';
export * from './report.js';
export * from './settings.js';
export * from './logger.js';
export * from './http-host.js';
export * from './settings-help.js';
export * from './completion.js';
