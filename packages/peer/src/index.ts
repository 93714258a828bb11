export { loadPeerSettings, PEER_DEFAULTS, PeerSettings } from './config.js';
export { AmbiguousNameError, download, downloadContent, type DownloadOptions, type DownloadProgress, type DownloadResult, resolveContent } from './download.js';
export { DEFAULT_MAX_UPLOADS, FileServer, type FileServerOptions, HOLDER_AGENT } from './file-server.js';
export { displayWidth, formatBytes, formatTable } from './format.js';
export { runMenu, type MenuOptions } from './menu.js';
export { hashFile, type IndexedFile, indexFolder, ShareIndex } from './share-index.js';
export { type ShareOptions, ShareSession } from './share.js';
