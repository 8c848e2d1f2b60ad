// Correlation finds investigations of one bucket, database or load balancer whichever id their
// alerts used: the inventory's resources join the keywords by id and by every alias, within the bound.
import { describe, expect, it } from 'vitest';
import { emptyContext, type PublicResource } from '../../../lib/context';
import { investigationResourceKeywords } from '../../../lib/search-attributes';

const loadBalancer: PublicResource = {
  provider: 'aws',
  class: 'load-balancer',
  type: 'aws:elbv2:load-balancer',
  id: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/shop/50dc6c495c0c9188',
  aliases: ['shop'],
  name: 'shop',
  public: true,
  reasons: ['internet-facing'],
  facts: {},
  proofs: [],
  tags: {},
};

describe('resource keywords of an investigation', () => {
  it('name each resource the inventory read by its id and aliases, after the alert’s own', () => {
    const alert = { resources: [{ type: 'aws:elbv2:load-balancer', id: 'shop' }] };
    expect(investigationResourceKeywords(alert, { ...emptyContext(), resources: [loadBalancer] })).toEqual([
      'aws:elbv2:load-balancer:shop',
      `aws:elbv2:load-balancer:${loadBalancer.id}`,
    ]);
  });

  it('stay within the bound however many resources a context holds', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ ...loadBalancer, id: `${loadBalancer.id}-${i}`, aliases: [] }));
    const keywords = investigationResourceKeywords({ resources: [] }, { ...emptyContext(), resources: many });
    expect(keywords.length).toBeGreaterThan(0);
    expect(new TextEncoder().encode(JSON.stringify(keywords)).length).toBeLessThanOrEqual(1800);
  });
});
