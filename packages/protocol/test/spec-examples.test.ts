import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConnectBack, HolderReply, HolderRequest, TrackerReply, TrackerRequest } from '../src/index.js';

/* The spec (README.md) is the contract: each complete JSON example in it must be a valid message. */

const spec = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// A block may hold several messages, one per line.
const blocks = [...spec.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => splitMessages(m[1]!.trim()));
// Examples abbreviate hashes and names with "…"; those are illustrations, not messages.
const complete = blocks.filter((text) => !text.includes('…'));

describe('the examples of the spec', () => {
  it('are there', () => {
    expect(complete.length).toBeGreaterThanOrEqual(3);
  });

  it.each(complete)('%s is a valid message', (text) => {
    const message = JSON.parse(text) as unknown;
    const valid = [TrackerRequest, TrackerReply, HolderRequest, HolderReply, ConnectBack].some((schema) => schema.safeParse(message).success);
    expect(valid).toBe(true);
  });
});

/** One message, or several on lines of their own (a message may span lines, continued with a space). */
function splitMessages(text: string): string[] {
  return text.split(/\n\s*(?=\{)/).map((part) => part.trim());
}
