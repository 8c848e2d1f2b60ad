// The registry of built-in GCP audit rules: a new rule family is one module here and one line below.
import type { GcpAuditRule } from './common';
import { cloudSqlRules } from './cloudsql';
import { firewallRules } from './firewall';
import { iamRules } from './iam';
import { keyRules } from './keys';
import { loggingRules } from './logging';

export type { GcpAuditRule };

/**
 * Every built-in rule. When several match one entry, the most severe wins, then the first in this
 * list, so the order of the families (and of the rules in each) is part of the output.
 */
export const gcpAuditRules: readonly GcpAuditRule[] = [...firewallRules, ...cloudSqlRules, ...loggingRules, ...iamRules, ...keyRules];
