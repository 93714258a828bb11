import { describe, expect, it } from 'vitest';
import { SenderLines } from '../src/server/sender-turns.js';

/* Searches take turns per sender: a sender's many connections get no more of the database than two. */

describe('turns per sender', () => {
  it('lets a sender run at most its bound at once, the rest in order as turns free, and never holds up another sender', async () => {
    const lines = new SenderLines(2);
    const started: string[] = [];
    const take = (sender: string, label: string) => lines.take(sender).then((release) => (started.push(label), release));
    const first = await take('10.0.0.1', 'a1');
    const second = await take('10.0.0.1', 'a2');
    const third = take('10.0.0.1', 'a3');
    const fourth = take('10.0.0.1', 'a4');
    const other = await take('10.0.0.2', 'b1');
    expect(started).toEqual(['a1', 'a2', 'b1']);
    first();
    first(); // a second release of the same turn frees nothing more
    await third;
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    second();
    (await fourth)();
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
    other();
  });
});
