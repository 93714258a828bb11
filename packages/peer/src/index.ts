// @p2pservice/peer: the peer as a library. The faces (CLI, menu) live in src/face and are not exported.
export { AGENTS, PEER_VERSION } from './network/agents.js';
export { BUSY_WAIT_MS, download, downloadContent, type DownloadOptions, type DownloadProgress, type DownloadResult, type HolderFailure } from './download/download.js';
export { PartFile, PartMeta, type PartPaths, partPaths } from './download/part-file.js';
export { AmbiguousNameError, resolveContent } from './download/resolve.js';
export { type DownloadRequest, PeerNode, type PeerNodeOptions } from './node.js';
export type { DownloadState, DownloadStatus, PeerNodeEvents, Reconnecting, ShareState } from './node-events.js';
export { DEFAULT_MAX_UPLOADS, DEFAULT_MAX_SOURCES } from './settings/defaults.js';
export { FileServer, type FileServerOptions, HOLDER_FEATURES, HOLDER_MAX_CONNECTIONS, type HolderAdmission } from './share/file-server.js';
export { MemberTickets } from './network/member-tickets.js';
export { defaultCacheDir, HashCache } from './share/hash-cache.js';
export { hashFile } from './share/hash-file.js';
export { indexFolder, type IndexOptions, type IndexProgress } from './share/index-folder.js';
export { type IndexedFile, ShareIndex, type SkippedFile } from './share/share-index.js';
export { type ShareOptions, ShareSession, type ShareStatus } from './share/share-session.js';
