// SigmaHQ's real cloud rules (test/fixtures/sigma/sigmahq-cloud, the whole rules/cloud folder) over
// real and documented CloudTrail records and GCP audit entries.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSigmaRules, type SigmaRule } from '../../../intake/sigma';
import { decodePubSubPush } from '../../../intake/sources/pubsub';
import { fixtures } from './rules';

const folder = path.join(fixtures, 'sigma/sigmahq-cloud');
const set = loadSigmaRules([folder]);
/** The rules also copied on their own (one, the SSH firewall rule, is newer than the folder's commit). */
const singles = loadSigmaRules([path.join(fixtures, 'sigma')].flatMap((dir) => readdirSync(dir).filter((name) => name.endsWith('.yml')).map((name) => path.join(dir, name))));
const byFile = (name: string): SigmaRule => {
  const found = [...set.rules, ...singles.rules].find((rule) => path.basename(rule.file) === name);
  if (!found) throw new Error(`no rule loaded from ${name}`);
  return found;
};

const json = (...parts: string[]): unknown => JSON.parse(readFileSync(path.join(fixtures, ...parts), 'utf8'));
/** The records of a CloudTrail fixture, whatever its shape (array, log file, EventBridge event, one record). */
function records(name: string): Record<string, unknown>[] {
  const content = json('cloudtrail', name) as any;
  if (Array.isArray(content)) return content;
  if (Array.isArray(content.Records)) return content.Records;
  return [content.detail ?? content];
}
const record = (name: string, eventName: string) => {
  const found = records(name).find((item) => item.eventName === eventName);
  if (!found) throw new Error(`no ${eventName} in ${name}`);
  return found;
};
/** A GCP audit fixture: a LogEntry, or a Pub/Sub push carrying one. */
const gcpEntry = (name: string) => {
  const content = json('gcp-audit', name) as any;
  return (content.message ? decodePubSubPush(content) : content) as Record<string, unknown>;
};

const ruleFiles = (sub: string) => readdirSync(path.join(folder, sub)).filter((name) => name.endsWith('.yml'));
const allFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));

describe('the SigmaHQ cloud rules', () => {
  it('every AWS CloudTrail and GCP audit rule loads, once, with its metadata', () => {
    expect(ruleFiles('aws/cloudtrail')).toHaveLength(57);
    expect(ruleFiles('gcp/audit')).toHaveLength(16);
    expect(set.rules).toHaveLength(57 + 16);
    const loaded = set.rules.map((rule) => path.relative(folder, rule.file)).sort();
    expect(loaded).toEqual([...ruleFiles('aws/cloudtrail').map((name) => `aws/cloudtrail/${name}`), ...ruleFiles('gcp/audit').map((name) => `gcp/audit/${name}`)].sort());
    expect(set.rules.filter((rule) => rule.logsource === 'aws-cloudtrail')).toHaveLength(57);
    expect(set.rules.filter((rule) => rule.logsource === 'gcp-audit')).toHaveLength(16);
  });

  it('every other rule (Azure, M365, Google Workspace…) is skipped for its log source', () => {
    const others = allFiles(folder).filter((file) => !file.includes(`${path.sep}aws${path.sep}cloudtrail${path.sep}`) && !file.includes(`${path.sep}gcp${path.sep}audit${path.sep}`));
    expect(others).toHaveLength(152);
    expect(set.skipped.map((entry) => entry.file).sort()).toEqual(others.sort());
    for (const entry of set.skipped) {
      expect(entry.reason, entry.file).toMatch(/^logsource product: (azure|m365|gcp), service: [a-z_.]+ is not one Vigil reads \(it reads product: aws, service: cloudtrail or product: gcp, service: gcp\.audit\)$/);
      expect(entry.id, entry.file).toMatch(/^[0-9a-f-]{36}$/);
      expect(entry.title, entry.file).toBeTruthy();
    }
  });

  it('the four rules copied on their own load too', () => {
    expect(singles.skipped).toEqual([]);
    expect(singles.rules.map((rule) => path.basename(rule.file))).toEqual([
      'aws_cloudtrail_disable_logging.yml',
      'aws_cloudtrail_security_group_change_ingress_egress.yml',
      'aws_iam_backdoor_users_keys.yml',
      'gcp_compute_firewall_ingress_allow_all_ssh.yml',
    ]);
  });

  it('rules keep their metadata as written', () => {
    const rule = byFile('aws_cloudtrail_disable_logging.yml');
    expect(rule).toMatchObject({
      id: '4db60cc0-36fb-42b7-9b58-a5b53019fb74',
      title: 'AWS CloudTrail Important Change',
      level: 'medium',
      status: 'test',
      author: 'vitaliy0x1',
      logsource: 'aws-cloudtrail',
      document: 0,
      file: path.join(folder, 'aws/cloudtrail/aws_cloudtrail_disable_logging.yml'),
    });
    expect(rule.tags).toEqual(['attack.defense-impairment', 'attack.t1685.002']);
    expect(rule.references).toEqual(['https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html']);
    expect(rule.falsepositives).toEqual(['Valid change in a Trail']);
  });
});

describe('SigmaHQ rules on real CloudTrail records', () => {
  it('CloudTrail Important Change matches the Stratus cloudtrail-stop record, and not its neighbours', () => {
    const rule = byFile('aws_cloudtrail_disable_logging.yml');
    expect(rule.matches(record('aws.defense-evasion.cloudtrail-stop.json', 'StopLogging'))).toBe(true);
    expect(rule.matches(record('aws.exfiltration.ec2-security-group-open-port-22-ingress.json', 'AuthorizeSecurityGroupIngress'))).toBe(false);
    expect(rule.matches(record('vigil-account-changes.json', 'DeleteTrail'))).toBe(true);
    expect(rule.matches(record('vigil-account-changes.json', 'PutEventSelectors'))).toBe(false);
  });

  it('Ingress/Egress Security Group Modification matches the Stratus port-22 ingress record', () => {
    const rule = byFile('aws_cloudtrail_security_group_change_ingress_egress.yml');
    expect(rule.matches(record('aws.exfiltration.ec2-security-group-open-port-22-ingress.json', 'AuthorizeSecurityGroupIngress'))).toBe(true);
    expect(rule.matches(record('vigil-eventbridge-sg-ingress-nested.json', 'AuthorizeSecurityGroupIngress'))).toBe(true);
    expect(rule.matches(record('aws.defense-evasion.cloudtrail-stop.json', 'StopLogging'))).toBe(false);
  });

  it('Console Login Without MFA matches the Stratus record (additionalEventData.MFAUsed, responseElements.ConsoleLogin)', () => {
    const rule = byFile('aws_cloudtrail_console_login_success_without_mfa.yml');
    expect(rule.matches(record('aws.initial-access.console-login-without-mfa.json', 'ConsoleLogin'))).toBe(true);
    const withMfa = records('vigil-console-logins.json').find((item: any) => item.additionalEventData?.MFAUsed === 'Yes');
    expect(withMfa).toBeDefined();
    expect(rule.matches(withMfa as Record<string, unknown>)).toBe(false);
  });

  it('the errorCode: null selections: VPC Flow Logs Deleted matches a call without errorCode, not a failed one', () => {
    const rule = byFile('aws_cloudtrail_vpc_flow_logs_deleted.yml');
    const deleted = record('vigil-account-changes.json', 'DeleteFlowLogs');
    expect(deleted.errorCode).toBeUndefined();
    expect(rule.matches(deleted)).toBe(true);
    expect(rule.matches({ ...deleted, errorCode: 'Success' })).toBe(true);
    expect(rule.matches({ ...deleted, errorCode: 'Client.UnauthorizedOperation' })).toBe(false);
  });

  it('fieldref: User Login Profile Was Modified is filtered when users change their own profile', () => {
    const rule = byFile('aws_update_login_profile.yml');
    const update = record('vigil-account-changes.json', 'UpdateLoginProfile') as any;
    expect(rule.matches(update)).toBe(true);
    expect(rule.matches({ ...update, userIdentity: { ...update.userIdentity, arn: update.requestParameters.userName } })).toBe(false);
  });

  it('re: IMDS credentials used outside AWS, with its filter of AWS-internal calls', () => {
    const rule = byFile('aws_cloudtrail_imds_malicious_usage.yml');
    const call = { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', sourceIPAddress: '203.0.113.9', userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc' } };
    expect(rule.matches(call)).toBe(true);
    expect(rule.matches({ ...call, sourceIPAddress: 'AWS Internal' })).toBe(false);
    expect(rule.matches({ ...call, userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/Admin/bob' } })).toBe(false);
  });

  it('an object field matched as text: S3 Bucket Versioning Disable', () => {
    const rule = byFile('aws_disable_bucket_versioning.yml');
    const call = { eventSource: 's3.amazonaws.com', eventName: 'PutBucketVersioning', requestParameters: { bucketName: 'b', VersioningConfiguration: { Status: 'Suspended', xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' } } };
    expect(rule.matches(call)).toBe(true);
    expect(rule.matches({ ...call, requestParameters: { bucketName: 'b', VersioningConfiguration: { Status: 'Enabled' } } })).toBe(false);
  });

  it('EC2 VM Export Failure: `errorMessage|contains: *` filters any call with an error', () => {
    const rule = byFile('aws_ec2_vm_export_failure.yml');
    const call = { eventSource: 'ec2.amazonaws.com', eventName: 'CreateInstanceExportTask', responseElements: { exportTask: { state: 'active' } } };
    expect(rule.matches(call)).toBe(true);
    expect(rule.matches({ ...call, errorMessage: 'denied' })).toBe(false);
    expect(rule.matches({ ...call, responseElements: { exportTask: { state: 'Failure' } } })).toBe(false);
  });

  it('every record of the CloudTrail fixtures gets exactly these rules', () => {
    // Written out after reading each pair. Assumed-role calls all get aws_sts_assumerole_misuse (its
    // whole detection); every CreateAccessKey gets aws_iam_backdoor_users_keys, whose filter compares
    // the ARN with the literal text 'responseElements.accessKey.userName' (as written in SigmaHQ).
    const files = [
      '1205Z_lKy08gyrqqRJyzsn.json',
      '1215Z_dTTFsx4I2m3om5Oy.json',
      '1230Z_ZtUNbBkwAu98FPZb.json',
      'aws.defense-evasion.cloudtrail-stop.json',
      'aws.exfiltration.ec2-security-group-open-port-22-ingress.json',
      'aws.exfiltration.ec2-share-ebs-snapshot.json',
      'aws.initial-access.console-login-without-mfa.json',
      'aws.persistence.iam-create-admin-user.json',
      'vigil-account-changes.json',
      'vigil-console-logins.json',
      'vigil-eventbridge-console-login-failure.json',
      'vigil-eventbridge-sg-ingress-nested.json',
      'vigil-insight-start-end.json',
      'vigil-network-changes.json',
      'vigil-sg-ingress-flat.json',
      'vigil-sg-ingress-ipv6-all-traffic.json',
      'vigil-sg-ingress-private.json',
    ];
    const hits = files.flatMap((name) =>
      records(name).flatMap((item) => {
        const names = set.rules.filter((rule) => rule.logsource === 'aws-cloudtrail' && rule.matches(item)).map((rule) => path.basename(rule.file, '.yml'));
        return names.length > 0 ? [`${name} ${String(item.eventName)}: ${names.join(' ')}`] : [];
      }),
    );
    expect(hits).toEqual([
      '1230Z_ZtUNbBkwAu98FPZb.json CreateAccessKey: aws_iam_backdoor_users_keys',
      '1230Z_ZtUNbBkwAu98FPZb.json CreateAccessKey: aws_iam_backdoor_users_keys',
      'aws.defense-evasion.cloudtrail-stop.json StopLogging: aws_cloudtrail_disable_logging',
      'aws.exfiltration.ec2-security-group-open-port-22-ingress.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress',
      'aws.exfiltration.ec2-share-ebs-snapshot.json ModifySnapshotAttribute: aws_snapshot_backup_exfiltration',
      'aws.initial-access.console-login-without-mfa.json ConsoleLogin: aws_cloudtrail_console_login_success_without_mfa',
      'aws.persistence.iam-create-admin-user.json CreateAccessKey: aws_iam_backdoor_users_keys',
      'vigil-account-changes.json DeleteTrail: aws_cloudtrail_disable_logging aws_sts_assumerole_misuse',
      'vigil-account-changes.json StopLogging: aws_cloudtrail_disable_logging aws_sts_assumerole_misuse',
      'vigil-account-changes.json UpdateTrail: aws_cloudtrail_disable_logging aws_sts_assumerole_misuse',
      'vigil-account-changes.json PutEventSelectors: aws_sts_assumerole_misuse',
      'vigil-account-changes.json DeleteFlowLogs: aws_cloudtrail_vpc_flow_logs_deleted aws_sts_assumerole_misuse',
      'vigil-account-changes.json PutUserPolicy: aws_sts_assumerole_misuse',
      'vigil-account-changes.json PutRolePolicy: aws_sts_assumerole_misuse',
      'vigil-account-changes.json AttachGroupPolicy: aws_sts_assumerole_misuse',
      'vigil-account-changes.json AttachGroupPolicy: aws_sts_assumerole_misuse',
      'vigil-account-changes.json UpdateLoginProfile: aws_sts_assumerole_misuse aws_update_login_profile',
      'vigil-account-changes.json ModifySnapshotAttribute: aws_snapshot_backup_exfiltration aws_sts_assumerole_misuse',
      'vigil-account-changes.json ModifyImageAttribute: aws_sts_assumerole_misuse',
      'vigil-account-changes.json ModifyDBSnapshotAttribute: aws_sts_assumerole_misuse',
      'vigil-account-changes.json ModifySnapshotAttribute: aws_snapshot_backup_exfiltration aws_sts_assumerole_misuse',
      'vigil-account-changes.json ModifyImageAttribute: aws_sts_assumerole_misuse',
      'vigil-account-changes.json ModifyDBClusterSnapshotAttribute: aws_sts_assumerole_misuse',
      'vigil-console-logins.json ConsoleLogin: aws_cloudtrail_console_login_failed_authentication',
      'vigil-console-logins.json ConsoleLogin: aws_cloudtrail_console_login_success_without_mfa aws_sts_assumerole_misuse',
      'vigil-console-logins.json ConsoleLogin: aws_cloudtrail_console_login_success_without_mfa aws_root_account_usage',
      'vigil-console-logins.json ConsoleLogin: aws_cloudtrail_console_login_failed_authentication aws_root_account_usage',
      'vigil-console-logins.json GetAccountSummary: aws_root_account_usage',
      'vigil-console-logins.json DescribeTrustedAdvisorChecks: aws_root_account_usage',
      'vigil-eventbridge-console-login-failure.json ConsoleLogin: aws_cloudtrail_console_login_failed_authentication',
      'vigil-eventbridge-sg-ingress-nested.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress aws_sts_assumerole_misuse',
      'vigil-network-changes.json CreateNetworkAclEntry: aws_cloudtrail_new_acl_entries',
      'vigil-network-changes.json CreateNetworkAclEntry: aws_cloudtrail_new_acl_entries',
      'vigil-network-changes.json CreateNetworkAclEntry: aws_cloudtrail_new_acl_entries',
      'vigil-network-changes.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress',
      'vigil-sg-ingress-flat.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress',
      'vigil-sg-ingress-ipv6-all-traffic.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress aws_sts_assumerole_misuse',
      'vigil-sg-ingress-private.json AuthorizeSecurityGroupIngress: aws_cloudtrail_security_group_change_ingress_egress',
    ]);
  });
});

describe('SigmaHQ rules on GCP audit entries', () => {
  const ssh = byFile('gcp_compute_firewall_ingress_allow_all_ssh.yml');

  it('the SSH-from-anywhere fixture really is one: 0.0.0.0/0, tcp:22, INGRESS', () => {
    const request = (gcpEntry('vigil-insert-ssh.json').protoPayload as any).request;
    expect(request.sourceRanges).toEqual(['0.0.0.0/0']);
    expect(request.alloweds).toEqual([{ IPProtocol: 'tcp', ports: ['22'] }]);
    expect(request.direction).toBe('INGRESS');
  });

  it('Firewall Ingress Allow All SSH matches it, directly and through Pub/Sub, and not the internal rule', () => {
    expect(ssh.matches(gcpEntry('vigil-insert-ssh.json'))).toBe(true);
    expect(ssh.matches(gcpEntry('vigil-insert-ssh.push.json'))).toBe(true);
    expect(ssh.matches(gcpEntry('vigil-insert-internal.json'))).toBe(false);
    expect(ssh.matches(gcpEntry('vigil-insert-ssh-last.json'))).toBe(false);
    expect(ssh.matches(gcpEntry('vigil-update-all.json'))).toBe(false);
  });

  it('Access Policy Deleted: data.protoPayload names, a list of authorizationInfo, granted: true as a boolean', () => {
    const rule = byFile('gcp_access_policy_deleted.yml');
    const entry = {
      protoPayload: {
        serviceName: 'accesscontextmanager.googleapis.com',
        methodName: 'google.identity.accesscontextmanager.v1.AccessContextManager.DeleteAccessPolicy',
        authorizationInfo: [
          { permission: 'accesscontextmanager.accessPolicies.get', granted: true },
          { permission: 'accesscontextmanager.accessPolicies.delete', granted: true },
        ],
      },
    };
    expect(rule.matches(entry)).toBe(true);
    expect(rule.matches({ data: entry })).toBe(true);
    expect(rule.matches({ protoPayload: { ...entry.protoPayload, authorizationInfo: [{ permission: 'accesscontextmanager.accessPolicies.delete', granted: false }] } })).toBe(false);
  });

  it('Break-glass Container Workload Deployed: a selection and a keyword search', () => {
    const rule = byFile('gcp_breakglass_container_workload_deployed.yml');
    const entry = {
      protoPayload: {
        // The rule looks for these inside protoPayload, where real entries do not have them (they are
        // the LogEntry's `resource` and `logName`, and logName starts with projects/…/logs/).
        resource: { type: 'k8s_cluster' },
        logName: 'cloudaudit.googleapis.com%2Factivity',
        methodName: 'io.k8s.core.v1.pods.create',
        request: { metadata: { labels: { 'image-policy.k8s.io/break-glass': 'true' } } },
      },
      labels: { 'imagepolicywebhook.image-policy.k8s.io/break-glass': 'true' },
    };
    // The keyword is a label *name* in GKE's entries; a keyword search looks at values, so only an
    // entry that also has it as a value (here an annotation text) matches.
    expect(rule.matches(entry)).toBe(false);
    expect(rule.matches({ ...entry, protoPayload: { ...entry.protoPayload, request: { note: 'deployed with image-policy.k8s.io/break-glass' } } })).toBe(true);
  });

  it('the other entries get the rules their methods name', () => {
    const names = (file: string) =>
      [...set.rules, ssh]
        .filter((rule) => rule.logsource === 'gcp-audit' && rule.matches(gcpEntry(file)))
        .map((rule) => path.basename(rule.file, '.yml'))
        .sort();
    expect(names('vigil-insert-ssh.json')).toEqual(['gcp_compute_firewall_ingress_allow_all_ssh', 'gcp_firewall_rule_modified_or_deleted']);
    expect(names('vigil-update-all.json')).toEqual(['gcp_firewall_rule_modified_or_deleted']);
    // `v*.Compute.Firewalls.Patch` does not cover the beta API's `beta.compute.firewalls.patch`.
    expect(names('vigil-patch-ipv6-web.push.json')).toEqual([]);
    expect(names('vigil-instance-insert.push.json')).toEqual([]);
  });
});
