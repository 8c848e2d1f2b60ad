// The AWS remediation executor: revokes the security-group rules that open a proven endpoint to the
// internet (by rule id) and turns on S3 Block Public Access for a bucket shown public, with the
// response's own narrow role in the resource's account (./aws-session); each change reversible.
import stableJson from 'safe-stable-stringify';
import type { ResponseSettings } from '../../lib/config';
import { proposeRevokes, restoreIngress, revokeIngress } from './aws-ingress';
import { blockPublicAccess, proposeBucketBlocks, restoreBlock } from './aws-s3';
import { createAwsSessions, refused, type AwsExecutorOptions } from './aws-session';
import type { RemediationExecutor } from './types';

export type { AwsExecutorOptions } from './aws-session';

export function createAwsExecutor(settings: ResponseSettings['aws'], options: AwsExecutorOptions = {}): RemediationExecutor {
  const sessions = createAwsSessions(settings, options);
  return {
    provider: 'aws',
    kinds: ['aws-revoke-ingress', 'aws-s3-block-public-access'],

    async propose(input) {
      const plans = [...(await proposeRevokes(sessions, input)), ...proposeBucketBlocks(input)];
      // The same change reached twice (two exposures through one rule) is one plan.
      return [...new Map(plans.map((plan) => [stableJson(plan.action), plan])).values()];
    },

    async execute(action, dryRun) {
      if (action.kind === 'aws-revoke-ingress') return revokeIngress(sessions, action, dryRun);
      if (action.kind === 'aws-s3-block-public-access') return blockPublicAccess(sessions, action, dryRun);
      throw refused(`the AWS executor does not carry out ${action.kind}`);
    },

    async undo(action, execution, dryRun) {
      if (action.kind === 'aws-revoke-ingress') return restoreIngress(sessions, action, execution, dryRun);
      if (action.kind === 'aws-s3-block-public-access') return restoreBlock(sessions, action, execution, dryRun);
      throw refused(`the AWS executor does not undo ${action.kind}`);
    },
  };
}
