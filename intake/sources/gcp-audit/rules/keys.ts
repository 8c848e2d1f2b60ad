// Key rules: service-account keys, long-lived credentials that work from anywhere until deleted.
import type { ResourceRef } from '../../../../lib/alert';
import { str } from '../../util';
import { methodOf, record, requestOf, resourceNameOf, responseOf, succeeded, thingFingerprint } from '../entry';
import { short, type GcpAuditRule } from './common';

const KEY_METHODS = /^google\.iam\.admin\.v\d+\.(CreateServiceAccountKey|UploadServiceAccountKey)$/;

/** `projects/P/serviceAccounts/ACCOUNT[/keys/KEY]` → its project, account (email or unique id) and key. */
function accountPath(name: string | undefined): { project: string; account: string; key?: string } | undefined {
  const parsed = name ? /(?:^|\/)projects\/([^/]+)\/serviceAccounts\/([^/]+)(?:\/keys\/([^/]+))?/.exec(name) : undefined;
  return parsed ? { project: parsed[1]!, account: parsed[2]!, ...(parsed[3] ? { key: parsed[3] } : {}) } : undefined;
}

const serviceAccountKeyCreated: GcpAuditRule = {
  id: 'service-account-key-created',
  description: 'CreateServiceAccountKey / UploadServiceAccountKey: a new long-lived key for a service account',
  kind: 'resource',
  severity: 'medium',
  match(entry) {
    const method = KEY_METHODS.exec(methodOf(entry) ?? '')?.[1];
    if (!method || !succeeded(entry)) return undefined;
    // The response names the account by email and the key; the request and resource may only give ids.
    const response = accountPath(str(responseOf(entry).name));
    const request = accountPath(str(requestOf(entry).name)) ?? accountPath(resourceNameOf(entry));
    const email = str(record(record(entry.resource).labels).email_id);
    const account = email ?? response?.account ?? request?.account;
    const project = [response?.project, request?.project].find((name) => name && name !== '-') ?? '-';
    const resources: ResourceRef[] = account
      ? [{ type: 'gcp:iam:service-account', id: `//iam.googleapis.com/projects/${project}/serviceAccounts/${account}`, name: account }]
      : [];
    if (response?.key) {
      resources.push({ type: 'gcp:iam:service-account-key', id: `//iam.googleapis.com/${str(responseOf(entry).name)!}`, name: response.key });
    }
    return {
      title: `Service account key ${method === 'UploadServiceAccountKey' ? 'uploaded' : 'created'} for ${short(account ?? 'an unknown service account')}`,
      resources,
      // Keys of one account are one issue: who holds keys to it is the question, not which key.
      fingerprint: thingFingerprint(entry, `service-account/${account ?? 'unknown'}/keys`),
      details: response?.key ? [`Key: ${response.key}`] : [],
    };
  },
};

export const keyRules: readonly GcpAuditRule[] = [serviceAccountKeyCreated];
