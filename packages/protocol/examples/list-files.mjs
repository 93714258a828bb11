// Prints every file on a P2PService network: node list-files.mjs HOST:PORT#IDENTITY
import { parseEndpoint, TrackerSession } from '@p2pservice/protocol';

// With the identity `tracker start` printed, only that tracker is accepted (TLS, pinned).
const tracker = await TrackerSession.open(parseEndpoint(process.argv[2] ?? '127.0.0.1:7070'));
try {
  for await (const file of tracker.list()) {
    console.log(`${file.name}\t${file.size}\t${file.sha256}\t${file.holders}`);
  }
} finally {
  await tracker.close();
}
