import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '@p2pservice/test-support/processes';

/*
 * The layout shows the architecture (STYLE.md): folders import downward only. A helper that two folders
 * need gets a folder of its own, never the parent folder that also imports them back. This reads every
 * import of every package's sources and fails on a cycle between folders, or between files.
 */

const PACKAGES = ['protocol', 'cli', 'tracker', 'peer'];

/** Every `.ts` file under `dir`, relative to it. */
function sources(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return sources(dir, path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The package's files each with the files it imports (relative imports only, static and dynamic). */
function importsOf(src: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src)) {
    const text = readFileSync(join(src, file), 'utf8');
    const targets = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => relative(src, resolve(dirname(join(src, file)), m[1]!.replace(/\.js$/, '.ts'))));
    graph.set(file, targets);
  }
  return graph;
}

/** A cycle of `graph` as the path around it, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const folderOf = (file: string) => dirname(file);

describe.each(PACKAGES)('the sources of packages/%s', (name) => {
  const graph = importsOf(join(REPO, 'packages', name, 'src'));

  it('import between folders in one direction only', () => {
    const folders = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (folderOf(file) === folderOf(target)) continue;
        if (!folders.has(folderOf(file))) folders.set(folderOf(file), new Set());
        folders.get(folderOf(file))!.add(folderOf(target));
      }
    }
    expect(findCycle(folders)).toBeUndefined();
  });

  it('have no cycle between files', () => {
    expect(findCycle(new Map([...graph].map(([file, targets]) => [file, new Set(targets)])))).toBeUndefined();
  });
});

describe('the cycle finder', () => {
  it('finds a cycle, and the way around it', () => {
    expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set()]]))).toBeUndefined();
  });
});
