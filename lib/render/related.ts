// The comment that links an ended investigation's issue to a newer one about the same resource or
// actor (a running investigation shows its related issues in its body instead).
import type { RelatedInvestigation } from '../investigation';
import { code } from '../markdown';

export function relatedComment({ issue, title, source, kind, shared }: RelatedInvestigation): string {
  const about = shared.slice(0, 5).map((keyword) => code(keyword, 120)).join(', ');
  return [
    `### Also: #${issue.number}`,
    '',
    `A later investigation is about the same ${about || 'resources or actors'}: #${issue.number} ${code(title, 160)} (${code(source, 40)} ${code(kind, 20)}).`,
  ].join('\n');
}
