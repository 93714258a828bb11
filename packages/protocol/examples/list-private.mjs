// Prints every file on a private P2PService network: NETWORK_KEY=… node list-private.mjs HOST:PORT#IDENTITY
import { parseEndpoint, parseNetworkKey, TrackerSession } from '@p2pservice/protocol';

// The key is proved to the tracker, bound to this TLS session; it never crosses the wire.
const networkKey = parseNetworkKey(process.env.NETWORK_KEY ?? '');
const tracker = await TrackerSession.open(parseEndpoint(process.argv[2] ?? '127.0.0.1:7070'), { networkKey });
try {
  console.error(`tracker ${tracker.serverId}, ${tracker.isPrivateNetwork ? 'private' : 'open'} network`);
  for await (const file of tracker.list()) {
    console.log(`${file.name}\t${file.size}\t${file.sha256}\t${file.holders}`);
  }
} finally {
  await tracker.close();
}
