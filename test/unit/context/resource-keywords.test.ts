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
  account: '111122223333',
  region: 'us-east-1',
  public: true,
  reasons: ['internet-facing'],
  facts: {},
  proofs: [],
  tags: {},
};

describe('resource keywords of an investigation', () => {
  it('name each resource the inventory read by its id and aliases, after the alert’s own', () => {
    const alert = { resources: [{ type: 'aws:elbv2:load-balancer', id: 'shop' }], cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' } };
    expect(investigationResourceKeywords(alert, { ...emptyContext(), resources: [loadBalancer] })).toEqual([
      'aws:elbv2:load-balancer:111122223333/us-east-1/shop',
      `aws:elbv2:load-balancer:${loadBalancer.id}`,
    ]);
  });

  it('place a name unique only in its account and region there, so same-named resources elsewhere stay apart', () => {
    const named = (account?: string, region?: string) =>
      investigationResourceKeywords({ resources: [{ type: 'aws:rds:db-instance', id: 'orders' }], cloud: { provider: 'aws', ...(account ? { account } : {}), ...(region ? { region } : {}) } });
    expect(named('111122223333', 'us-east-1')).toEqual(['aws:rds:db-instance:111122223333/us-east-1/orders']);
    expect(named('444455556666', 'us-east-1')).not.toEqual(named('111122223333', 'us-east-1'));
    expect(named('111122223333', 'eu-west-1')).not.toEqual(named('111122223333', 'us-east-1'));
    // Where the alert does not say, the name links nothing rather than everything of that name.
    expect(named('111122223333')).toEqual([]);
    // Globally unique ids (a bucket's name, an ARN) need no place.
    expect(investigationResourceKeywords({ resources: [{ type: 'aws:s3:bucket', id: 'logs' }, { type: 'aws:rds:db-instance', id: 'arn:aws:rds:us-east-1:1:db:x' }] })).toEqual([
      'aws:s3:bucket:logs',
      'aws:rds:db-instance:arn:aws:rds:us-east-1:1:db:x',
    ]);
  });

  it('stay within the bound however many resources a context holds', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ ...loadBalancer, id: `${loadBalancer.id}-${i}`, aliases: [] }));
    const keywords = investigationResourceKeywords({ resources: [] }, { ...emptyContext(), resources: many });
    expect(keywords.length).toBeGreaterThan(0);
    expect(new TextEncoder().encode(JSON.stringify(keywords)).length).toBeLessThanOrEqual(1800);
  });
});
