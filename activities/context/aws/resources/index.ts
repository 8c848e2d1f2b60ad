// The AWS resource readers beyond EC2 machines, one per class of resource. Adding one: a module that
// exports an `AwsResourceReader` (./types) and one entry below; the inventory runs it for alerts
// naming its types and in every re-scan.
import { databaseReaders } from './databases';
import { loadBalancerReaders } from './load-balancers';
import { s3BucketReader } from './s3';
import { lambdaFunctionReader, restApiReader, httpApiReader } from './serverless';
import { ec2SnapshotReader, rdsSnapshotReader } from './snapshots';
import type { AwsResourceReader } from './types';

export const awsResourceReaders: readonly AwsResourceReader[] = [
  s3BucketReader,
  ec2SnapshotReader,
  rdsSnapshotReader,
  lambdaFunctionReader,
  restApiReader,
  httpApiReader,
  ...databaseReaders,
  ...loadBalancerReaders,
];

export type { AwsRegionSession, AwsResourceReader } from './types';
