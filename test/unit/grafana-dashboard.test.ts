// The Grafana dashboard in deploy/: valid JSON, every panel on the datasource variable, and every
// Vigil metric it queries defined in lib/metrics.ts (a renamed metric must not leave an empty panel).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import * as metrics from '../../lib/metrics';

const dashboardFile = path.resolve(import.meta.dirname, '../../deploy/grafana/vigil-dashboard.json');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const flatten = (panels: Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...flatten(panel.panels ?? [])]);

async function definedNames(): Promise<Set<string>> {
  const defined = Object.values(metrics).filter((value) => value instanceof Counter || value instanceof Gauge || value instanceof Histogram);
  return new Set(await Promise.all(defined.map(async (metric) => (await metric.get()).name)));
}

describe('the Grafana dashboard', () => {
  it('queries only metrics lib/metrics.ts defines, through the datasource variable', async () => {
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { panels: Panel[]; templating: { list: { name: string; type: string; query: string }[] } };
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));

    const queried = flatten(dashboard.panels).filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThan(0);
    const defined = await definedNames();
    const used = new Set<string>();
    for (const panel of queried) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        for (const [name] of target.expr.matchAll(/\bvigil_[a-z_]+\b/g)) used.add(name);
      }
    }
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
    // And every metric has a panel.
    expect([...defined].filter((name) => !used.has(name))).toEqual([]);
  });
});
