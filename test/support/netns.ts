import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * A network namespace of the test's own, with only a loopback interface that carries multicast: what is
 * announced or asked there is heard there and nowhere else, never on this machine's real network.
 */
export interface Namespace {
  name: string;
  remove(): void;
}

/** Makes one (as root, with iproute2), or returns why it cannot be made here. */
export function makeNamespace(): Namespace | string {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const name = `p2p-test-${randomBytes(4).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (error) {
    return `cannot make a network namespace: ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}`;
  }
  const remove = () => execFileSync('ip', ['netns', 'delete', name], { stdio: 'pipe' });
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up', 'multicast', 'on'], { stdio: 'pipe' });
    execFileSync('ip', ['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'], { stdio: 'pipe' });
  } catch (error) {
    remove();
    return `cannot route multicast in a network namespace: ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}`;
  }
  return { name, remove };
}
