// The Affected resources comment says what the inventory knew: machines, or only the rules an alert
// named (an SCC finding about a firewall no machine is behind), buckets and other resources and why
// each is public, or nothing.
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { emptyContext, type PublicResource } from '../../../lib/context';
import { diffFindings, type Finding } from '../../../lib/finding';
import { contextComment } from '../../../lib/render/context';
import { exposureComment } from '../../../lib/render/exposure';
import { findingsChanges } from '../../../lib/render/findings';

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

  const bucket = (more: Partial<PublicResource> = {}): PublicResource => ({
    provider: 'aws',
    class: 'storage',
    type: 'aws:s3:bucket',
    id: 'vigil-logs',
    name: 'vigil-logs',
    account: '123456789012',
    region: 'us-east-1',
    public: true,
    reasons: ['the bucket policy allows s3:GetObject to everyone'],
    facts: { 'block public access': 'off' },
    proofs: [],
    tags: {},
    ...more,
  });

  it('says which resources are public and why in words, with every field folded below', () => {
    const comment = contextComment({
      ...emptyContext(),
      consulted: ['aws'],
      resources: [
        bucket(),
        bucket({ id: 'arn:aws:rds:us-east-1:123456789012:db:orders', name: 'orders', type: 'aws:rds:db-instance', class: 'database', reasons: ['publicly accessible', 'port 5432 open to 0.0.0.0/0'], facts: { engine: 'postgres' } }),
        bucket({ id: 'archive', name: undefined, public: false, reasons: ['Block Public Access (account) blocks public policies'], facts: {} }),
      ],
    });
    expect(comment).not.toContain('No inventory');
    expect(comment).toContain('2 public resource(s) of 3 read (`aws`):');
    expect(comment).toContain('- bucket `vigil-logs`, public: `the bucket policy allows s3:GetObject to everyone`');
    expect(comment).toContain('- database `orders (arn:aws:rds:us-east-1:123456789012:db:orders)`, public: `publicly accessible`; `port 5432 open to 0.0.0.0/0`');
    expect(comment).toContain('| `storage` | `vigil-logs` | `123456789012` | `us-east-1` | **yes** | `the bucket policy allows s3:GetObject to everyone` | `block public access: off` |');
    expect(comment).toContain('| `storage` | `archive` | `123456789012` | `us-east-1` | no | `Block Public Access (account) blocks public policies` | — |');
    expect(comment.indexOf('2 public resource(s)')).toBeLessThan(comment.indexOf('<details>'));
  });

  it('says a resource read and private, and keeps what the cloud named inert', () => {
    const comment = contextComment({
      ...emptyContext(),
      consulted: ['aws'],
      resources: [bucket({ id: 'x', name: '@team | <b>`evil`</b> #1', public: false, reasons: ['shared with @everyone'], facts: { 'a|b': '`x`' } })],
    });
    expect(comment).toContain('1 resource(s) read (`aws`), none of them public.');
    // Rendered as GitHub would: outside code elements, nothing from the cloud (no mention, no tag, no
    // issue reference), and every table row keeps its seven cells.
    const html = new MarkdownIt({ html: true, linkify: true }).render(comment);
    const tags = new Set([...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase()));
    expect([...tags].every((tag) => ['h3', 'h4', 'p', 'ul', 'li', 'code', 'strong', 'details', 'summary', 'table', 'thead', 'tbody', 'tr', 'th', 'td'].includes(tag))).toBe(true);
    const outside = html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');
    expect(outside).not.toMatch(/@[a-z]|#\d/i);
    for (const row of html.match(/<tr>[\s\S]*?<\/tr>/g)!) expect(row.match(/<t[dh][ >]/g)).toHaveLength(7);
  });
});

describe('public resources in the exposure and re-check comments', () => {
  const proof = (status: string): Finding => ({ key: 'bucket/http://127.0.0.1:5000/vigil-logs', check: 'bucket', target: 'http://127.0.0.1:5000/vigil-logs', status, fields: { object: 'a.txt' } });
  const inventory = (status: string, why: string): Finding => ({ key: 'inventory/aws:s3:bucket/vigil-logs', check: 'inventory', target: 'vigil-logs', status, fields: { class: 'storage', why } });

  it('says what a bucket gave an outsider, not that nothing was probed', () => {
    const comment = exposureComment({ findings: [proof('public')], skipped: [], screenshots: [] });
    expect(comment).not.toContain('Nothing was probed');
    expect(comment).toContain('1 resource(s) asked for as an outsider, without credentials:\n\n- bucket `http://127.0.0.1:5000/vigil-logs`: **public**: reached without credentials');
    expect(exposureComment({ findings: [proof('refused')], skipped: [], screenshots: [] })).toContain('`http://127.0.0.1:5000/vigil-logs`: refused without credentials');
    const skipped = { ...proof('skipped'), fields: { reason: '@someone 10.0.0.5 is outside the probe scope' } };
    expect(exposureComment({ findings: [skipped], skipped: [], screenshots: [] })).toContain(': not asked: `@someone 10.0.0.5 is outside the probe scope`');
  });

  it('says a snapshot shared with everyone was read again and is public, not that nothing was probed', () => {
    const image = { class: 'snapshot' as const, type: 'gcp:compute:image', id: '//compute.googleapis.com/projects/p/global/images/golden', name: 'golden', reasons: ['IAM grants roles/compute.imageUser to allUsers'] };
    const comment = exposureComment({ findings: [], skipped: [], screenshots: [], shared: [image] });
    expect(comment).not.toContain('Nothing was probed');
    expect(comment).toContain(
      '1 snapshot(s) or image(s) read again (their sharing, never their data), shared with everyone: **public**:\n\n- image `golden (//compute.googleapis.com/projects/p/global/images/golden)`: `IAM grants roles/compute.imageUser to allUsers`',
    );
    expect(exposureComment({ findings: [], skipped: [], screenshots: [] })).toContain('Nothing was probed.');
  });

  it('says a resource turning private in words before the table', () => {
    const changes = findingsChanges(diffFindings([inventory('public', 'the bucket policy allows s3:GetObject to everyone'), proof('public')], [inventory('private', '')]));
    expect(changes).toContain('- `inventory` `vigil-logs`: `public` → `private`');
    expect(changes).toContain('| `inventory/aws:s3:bucket/vigil-logs` | `why` | `the bucket policy allows s3:GetObject to everyone` | — |');
    expect(changes).toContain('- `bucket/http://127.0.0.1:5000/vigil-logs` (was `public`)');
  });
});
