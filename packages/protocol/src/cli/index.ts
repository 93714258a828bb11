// @p2pservice/protocol/cli: what the `tracker` and `peer` commands share, kept out of the library.
export * from './dotenv.js';
export * from './paths.js';
export * from './report.js';
export * from './settings.js';
export * from './logger.js';
export * from './http-host.js';
export * from './settings-help.js';
export * from './completion.js';
