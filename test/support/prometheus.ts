/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): what a scraper would refuse,
 * this throws on. Samples are keyed `name{label="value",...}` with the labels sorted.
 */
export interface Exposition {
  types: Map<string, string>;
  samples: Map<string, number>;
  /** The value of one sample, by name and labels; throws if there is none. */
  value(name: string, labels?: Record<string, string>): number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

function key(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v}"`);
  return `${name}{${parts.join(',')}}`;
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line break');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples = new Map<string, number>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1} (${JSON.stringify(line.slice(0, 80))})`;
      if (line === '') return;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const [, kind, name, ...rest] = line.split(' ');
        if (!METRIC_NAME.test(name ?? '')) throw new Error(`${where}: bad metric name`);
        if (kind === 'HELP') {
          if (helps.has(name!)) throw new Error(`${where}: second HELP for ${name}`);
          helps.add(name!);
        } else {
          if (types.has(name!)) throw new Error(`${where}: second TYPE for ${name}`);
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest.join(' '))) throw new Error(`${where}: unknown type`);
          types.set(name!, rest.join(' '));
        }
        return;
      }
      if (line.startsWith('#')) return;
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`${where}: not a sample`);
      const [, name, labelText, valueText] = match;
      const family = types.has(name!) ? name! : SUFFIXES.map((s) => (name!.endsWith(s) ? name!.slice(0, -s.length) : '')).find((f) => f && types.has(f));
      if (!family) throw new Error(`${where}: sample of ${name} before its TYPE`);
      const labels: Record<string, string> = {};
      if (labelText) {
        LABEL.lastIndex = 0;
        while (LABEL.lastIndex < labelText.length) {
          const at = LABEL.lastIndex;
          const label = LABEL.exec(labelText);
          if (!label || label.index !== at) throw new Error(`${where}: bad labels`);
          if (label[1]! in labels) throw new Error(`${where}: label ${label[1]} twice`);
          labels[label[1]!] = label[2]!;
        }
      }
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
      if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`${where}: bad value`);
      const id = key(name!, labels);
      if (samples.has(id)) throw new Error(`${where}: ${id} twice`);
      samples.set(id, value);
    });
  return {
    types,
    samples,
    value(name, labels = {}) {
      const id = key(name, labels);
      const found = samples.get(id);
      if (found === undefined) throw new Error(`no sample ${id}`);
      return found;
    },
  };
}
