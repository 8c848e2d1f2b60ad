// What a CloudTrail record is about, for a record no built-in rule describes (a Sigma rule's match):
// the `resources` CloudTrail lists for data and some management events, else the ids the request
// names in the parameters AWS APIs commonly use.
import type { ResourceRef } from '../../../lib/alert';
import { asArray, isRecord, str, uniq } from '../util';
import { at, type CloudTrailRecord } from './record';

/** `AWS::EC2::SecurityGroup` → `aws:ec2:security-group`, Vigil's ResourceRef type. */
function resourceType(cloudTrailType: string): string {
  const parts = cloudTrailType.split('::').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase());
  return parts.join(':');
}

/** Request parameters that name the thing acted on, with the type of what they name. */
const namingParameters: [key: string, type: string][] = [
  ['instanceId', 'aws:ec2:instance'],
  ['groupId', 'aws:ec2:security-group'],
  ['networkAclId', 'aws:ec2:network-acl'],
  ['snapshotId', 'aws:ec2:snapshot'],
  ['imageId', 'aws:ec2:image'],
  ['vpcId', 'aws:ec2:vpc'],
  ['bucketName', 'aws:s3:bucket'],
  ['userName', 'aws:iam:user'],
  ['roleName', 'aws:iam:role'],
  ['policyArn', 'aws:iam:policy'],
  ['accessKeyId', 'aws:iam:access-key'],
  ['dBInstanceIdentifier', 'aws:rds:db-instance'],
  ['dBSnapshotIdentifier', 'aws:rds:db-snapshot'],
  ['functionName', 'aws:lambda:function'],
  ['keyId', 'aws:kms:key'],
  ['detectorId', 'aws:guardduty:detector'],
  ['secretId', 'aws:secretsmanager:secret'],
];

/** EC2 lists ids in `instancesSet.items[].instanceId` rather than one parameter. */
function listedInstances(params: unknown): string[] {
  return asArray(at(params, 'instancesSet', 'items')).map((item) => str(at(item, 'instanceId'))).filter((id): id is string => id !== undefined);
}

export function recordResources(record: CloudTrailRecord): ResourceRef[] {
  const listed = asArray(record.resources).flatMap((entry): ResourceRef[] => {
    const arn = isRecord(entry) ? (str(entry.ARN) ?? str(entry.arn)) : undefined;
    const type = isRecord(entry) ? str(entry.type) : undefined;
    return arn ? [{ type: type ? resourceType(type) : 'aws:resource', id: arn }] : [];
  });
  if (listed.length > 0) return listed;
  const params = record.requestParameters;
  const named = namingParameters.flatMap(([key, type]): ResourceRef[] => {
    const id = str(at(params, key));
    return id ? [{ type, id }] : [];
  });
  const instances = uniq(listedInstances(params)).map((id) => ({ type: 'aws:ec2:instance', id }));
  return [...named, ...instances];
}
