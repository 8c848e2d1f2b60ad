// Prometheus's text exposition format read back (the samples; HELP and TYPE lines skipped), for
// tests that scrape a /metrics endpoint over HTTP.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const unescape = (value: string) => value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));

export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = samplePattern.exec(line.trim());
      if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
      const [, name, labelText = '', value] = match;
      const labels = Object.fromEntries([...labelText.matchAll(labelPattern)].map(([, key, raw]) => [key!, unescape(raw!)]));
      return { name: name!, labels, value: Number(value) };
    });
}

/** GET the endpoint and parse it. */
export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parseExposition(await response.text());
}

/** The sum of a metric's samples whose labels include `where`. */
export function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
