// Where field names point: CloudTrail's own dotted paths (and flattened keys), GCP's Filebeat names
// mapped onto the LogEntry, and the `data.` wrapper some GCP rules expect.
import { describe, expect, it } from 'vitest';
import { GCP, selection } from './rules';

const entry = {
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    methodName: 'v1.compute.firewalls.insert',
    serviceName: 'compute.googleapis.com',
    resourceName: 'projects/p/global/firewalls/f',
    authenticationInfo: { principalEmail: 'alice@example.com' },
    requestMetadata: { callerIp: '198.51.100.23', callerSuppliedUserAgent: 'gcloud' },
    authorizationInfo: [{ permission: 'compute.firewalls.create', granted: true, resourceAttributes: { type: 'compute.firewalls' } }],
    status: { code: 7 },
    numResponseItems: '3',
    request: { '@type': 'type.googleapis.com/compute.firewalls.insert', sourceRanges: ['0.0.0.0/0'], snake_key: 'kept' },
    response: { '@type': 'type.googleapis.com/operation' },
    resourceLocation: { currentLocations: ['global'] },
  },
  logName: 'projects/p/logs/cloudaudit.googleapis.com%2Factivity',
  resource: { type: 'gce_firewall_rule' },
};

const gcpMatches = (field: string, value: unknown, event: Record<string, unknown> = entry) => selection({ [field]: value }, GCP).matches(event);

describe('GCP audit field names', () => {
  it.each([
    ['gcp.audit.method_name', 'v1.compute.firewalls.insert'],
    ['gcp.audit.service_name', 'compute.googleapis.com'],
    ['gcp.audit.resource_name', 'projects/p/global/firewalls/f'],
    ['gcp.audit.authentication_info.principal_email', 'alice@example.com'],
    ['gcp.audit.request_metadata.caller_ip', '198.51.100.23'],
    ['gcp.audit.request_metadata.caller_supplied_user_agent', 'gcloud'],
    ['gcp.audit.authorization_info.permission', 'compute.firewalls.create'],
    ['gcp.audit.authorization_info.granted', true],
    ['gcp.audit.authorization_info.resource_attributes.type', 'compute.firewalls'],
    ['gcp.audit.status.code', 7],
    ['gcp.audit.num_response_items', 3],
    ['gcp.audit.resource_location.current_locations', 'global'],
    ['gcp.audit.request.source_ranges', '0.0.0.0/0'],
    ['gcp.audit.request.snake_key', 'kept'],
    ['gcp.audit.type', 'type.googleapis.com/google.cloud.audit.AuditLog'],
    ['gcp.audit.request.proto_name', 'type.googleapis.com/compute.firewalls.insert'],
    ['gcp.audit.response.proto_name', 'type.googleapis.com/operation'],
    ['protoPayload.methodName', 'v1.compute.firewalls.insert'],
    ['proto_payload.method_name', 'v1.compute.firewalls.insert'],
    ['logName', 'projects/p/logs/cloudaudit.googleapis.com%2Factivity'],
    ['resource.type', 'gce_firewall_rule'],
  ])('%s', (field, value) => {
    expect(gcpMatches(field, value)).toBe(true);
    expect(gcpMatches(field, 'something else')).toBe(false);
  });

  it('names that are also JavaScript properties are just names', () => {
    expect(gcpMatches('gcp.audit.constructor|exists', true)).toBe(false);
    expect(gcpMatches('gcp.audit.constructor|exists', true, { protoPayload: { constructor: 'x' } })).toBe(true);
  });

  it('a key as written is preferred to its camelCase form', () => {
    const both = { protoPayload: { method_name: 'as written', methodName: 'camel' } };
    expect(gcpMatches('gcp.audit.method_name', 'as written', both)).toBe(true);
    expect(gcpMatches('gcp.audit.method_name', 'camel', both)).toBe(false);
  });

  it('data.X reads X when the entry is not wrapped in data, and data.X when it is', () => {
    expect(gcpMatches('data.protoPayload.methodName', 'v1.compute.firewalls.insert')).toBe(true);
    expect(gcpMatches('data.protoPayload.authorizationInfo.permission', 'compute.firewalls.create')).toBe(true);
    const wrapped = { data: entry };
    expect(gcpMatches('data.protoPayload.methodName', 'v1.compute.firewalls.insert', wrapped)).toBe(true);
    expect(gcpMatches('gcp.audit.method_name', 'v1.compute.firewalls.insert', wrapped)).toBe(false);
    const otherData = { data: { protoPayload: { methodName: 'other' } }, protoPayload: { methodName: 'v1.compute.firewalls.insert' } };
    expect(gcpMatches('data.protoPayload.methodName', 'v1.compute.firewalls.insert', otherData)).toBe(false);
  });
});

describe('CloudTrail field names', () => {
  const record = {
    eventName: 'ConsoleLogin',
    userIdentity: { type: 'Root', sessionContext: { sessionIssuer: { type: 'Role' } } },
    additionalEventData: { MFAUsed: 'No' },
    requestParameters: { ipPermissions: { items: [{ ipRanges: { items: [{ cidrIp: '10.0.0.0/8' }, { cidrIp: '0.0.0.0/0' }] } }] } },
  };

  it('dotted paths, through arrays', () => {
    expect(selection({ 'userIdentity.sessionContext.sessionIssuer.type': 'Role' }).matches(record)).toBe(true);
    expect(selection({ 'additionalEventData.MFAUsed': 'NO' }).matches(record)).toBe(true);
    expect(selection({ 'requestParameters.ipPermissions.items.ipRanges.items.cidrIp': '0.0.0.0/0' }).matches(record)).toBe(true);
    expect(selection({ 'requestParameters.ipPermissions.items.ipRanges.items.cidrIp': '1.2.3.4/32' }).matches(record)).toBe(false);
  });

  it('names are case-sensitive and not re-spelled for CloudTrail', () => {
    expect(selection({ eventname: 'ConsoleLogin' }).matches(record)).toBe(false);
    expect(selection({ 'user_identity.type': 'Root' }).matches(record)).toBe(false);
  });

  it('a flattened record: a key with dots is tried before the path', () => {
    expect(selection({ 'userIdentity.type': 'Root' }).matches({ 'userIdentity.type': 'Root' })).toBe(true);
    expect(selection({ 'userIdentity.type': 'Root' }).matches({ userIdentity: { type: 'IAMUser' }, 'userIdentity.type': 'Root' })).toBe(true);
    expect(selection({ 'a.b.c': 'x' }).matches({ a: { 'b.c': 'x' } })).toBe(true);
  });

  it('inherited properties are not fields', () => {
    expect(selection({ 'constructor|exists': true }).matches({})).toBe(false);
    expect(selection({ 'toString|exists': true }).matches({ a: 1 })).toBe(false);
    const parsed = JSON.parse('{"__proto__": {"polluted": "yes"}}') as Record<string, unknown>;
    expect(selection({ '__proto__.polluted': 'yes' }).matches(parsed)).toBe(true);
    expect(selection({ '__proto__.polluted': 'yes' }).matches({})).toBe(false);
  });
});
