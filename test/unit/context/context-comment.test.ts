// The Affected resources comment says what the inventory knew: machines, or only the rules an alert
// named (an SCC finding about a firewall no machine is behind), or nothing.
import { describe, expect, it } from 'vitest';
import { emptyContext } from '../../../lib/context';
import { contextComment } from '../../../lib/render/context';

describe('the Affected resources comment', () => {
  it('shows a known rule with no machine behind it as known, not as unknown to every inventory', () => {
    const comment = contextComment({
      ...emptyContext(),
      consulted: ['gcp'],
      rules: [{ id: 'projects/p/global/firewalls/default-allow-ssh', name: 'default-allow-ssh', aliases: ['43256709'], protocol: 'tcp', ports: [{ from: 22, to: 22 }], sources: ['0.0.0.0/0'] }],
    });
    expect(comment).not.toContain('No inventory');
    expect(comment).toContain('knows the rules this alert names, but no machine they apply to');
    expect(comment).toContain('| `default-allow-ssh (43256709)` | `tcp` | `22` | `0.0.0.0/0` |');
  });

  it('says no inventory knows the alert when it knows neither machine nor rule', () => {
    expect(contextComment({ ...emptyContext(), consulted: ['gcp'] })).toContain('No inventory (`gcp`) knows the resources or addresses this alert names.');
  });
});
