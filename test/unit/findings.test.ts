import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { keepUnread } from '../../lib/context';
import { diffFindings, isEmptyDiff, type Finding } from '../../lib/finding';
import { findingsChanges, findingsTable } from '../../lib/render/findings';
import { recheckComment } from '../../lib/render/watch';

const tcp = (target: string, status: string, latencyMs = 3): Finding => ({
  key: `tcp/${target}`,
  check: 'tcp',
  target,
  status,
  fields: { latencyMs, banner: status === 'open' ? 'SSH-2.0-OpenSSH_9.6' : null },
  volatile: ['latencyMs'],
  detail: { attempts: 1 },
});

const screenshot = (imageHash: string): Finding => ({
  key: 'screenshot/https://203.0.113.10/',
  check: 'screenshot',
  target: 'https://203.0.113.10/',
  status: 'captured',
  fields: { title: 'Login', imageHash, sha256: imageHash },
  volatile: ['sha256'],
  perceptual: ['imageHash'],
});

describe('findings', () => {
  it('counts a screenshot as changed only when the picture looks different, not when a re-render flips a few bits', () => {
    const before = [screenshot('f0f0f0f0f0f0f0f0')];
    // A clock or a caret: three bits of 64.
    expect(isEmptyDiff(diffFindings(before, [screenshot('f0f0f0f0f0f0f0f7')]))).toBe(true);
    // Another page altogether: half the bits.
    expect(diffFindings(before, [screenshot('0f0f0f0f0f0f0f0f')]).changed[0]?.changes).toEqual([{ field: 'imageHash', from: 'f0f0f0f0f0f0f0f0', to: '0f0f0f0f0f0f0f0f' }]);
  });
  it('diffs on stable keys, ignoring volatile fields', () => {
    const before = [tcp('203.0.113.10:22', 'open'), tcp('203.0.113.10:80', 'open')];
    expect(isEmptyDiff(diffFindings(before, [tcp('203.0.113.10:22', 'open', 90), tcp('203.0.113.10:80', 'open', 1)]))).toBe(true);

    const after = [tcp('203.0.113.10:22', 'closed'), tcp('203.0.113.10:3389', 'open')];
    const diff = diffFindings(before, after);
    expect(diff.added.map((finding) => finding.key)).toEqual(['tcp/203.0.113.10:3389']);
    expect(diff.removed.map((finding) => finding.key)).toEqual(['tcp/203.0.113.10:80']);
    expect(diff.changed).toEqual([
      {
        before: before[0],
        after: after[0],
        changes: [
          { field: 'status', from: 'open', to: 'closed' },
          { field: 'banner', from: 'SSH-2.0-OpenSSH_9.6', to: null },
        ],
      },
    ]);
  });

  it('renders a compact table per check with the detail collapsed, and change comments', () => {
    const markdown = new MarkdownIt({ html: true });
    const table = markdown.render(findingsTable([tcp('203.0.113.10:22', 'open')]));
    expect(table).toContain('<th><code>latencyMs</code></th>');
    expect(table).toContain('<td><code>SSH-2.0-OpenSSH_9.6</code></td>');
    expect(table).toMatch(/<details><summary>Full detail<\/summary>[\s\S]*&quot;attempts&quot;: 1/);

    const changes = findingsChanges(diffFindings([tcp('203.0.113.10:22', 'open')], [tcp('203.0.113.10:22', 'closed')]));
    expect(changes).toContain('**Changed** (1)');
    expect(changes).toContain('| `tcp/203.0.113.10:22` | `status` | `open` | `closed` |');
    expect(findingsChanges({ added: [], removed: [], changed: [] })).toBe('No change.');
  });
});

describe('a look at which the inventory could not read everything', () => {
  const bucket = (status: string): Finding => ({ key: 'inventory/aws:s3:bucket/logs', check: 'inventory', target: 'logs', status, fields: { class: 'storage', why: 'policy' } });

  it('keeps the inventory findings it has no answer for, so a lost permission is no change', () => {
    const before = [bucket('public'), tcp('203.0.113.10:22', 'open')];
    const now = [tcp('203.0.113.10:22', 'open')];
    expect(isEmptyDiff(diffFindings(before, keepUnread(before, now)))).toBe(true);
    // What it did read stands as read; probe findings are never carried.
    expect(keepUnread(before, [bucket('private')])).toEqual([bucket('private')]);
    expect(keepUnread([tcp('203.0.113.10:22', 'open')], [])).toEqual([]);
  });

  it('says on the re-check what could not be read', () => {
    const diff = diffFindings([tcp('203.0.113.10:22', 'open')], [tcp('203.0.113.10:22', 'closed')]);
    const comment = recheckComment(3, diff, [], [{ provider: 'aws', scope: 'account 111122223333 in us-east-1 (aws:s3:bucket)', reason: 'access denied (AccessDenied)' }]);
    expect(comment).toContain('could not read everything this time');
    expect(comment).toContain('`access denied (AccessDenied)`');
    expect(recheckComment(3, diff, [])).not.toContain('could not read');
  });
});
