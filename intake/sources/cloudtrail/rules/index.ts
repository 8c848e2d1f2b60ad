// The registry of built-in CloudTrail rules: a new rule family is one module here and one line below.
import type { CloudTrailRule } from './common';
import { consoleRules } from './console';
import { iamRules } from './iam';
import { insightsRules } from './insights';
import { loggingRules } from './logging';
import { networkRules } from './network';
import { publicAccessRules } from './public';
import { sharingRules } from './sharing';

/**
 * Every built-in rule. When several match one record, the most severe wins, then the first in this
 * list, so the order of the families (and of the rules in each) is part of the output.
 */
export const cloudTrailRules: readonly CloudTrailRule[] = [
  ...networkRules,
  ...consoleRules,
  ...loggingRules,
  ...iamRules,
  ...sharingRules,
  ...publicAccessRules,
  ...insightsRules,
];
