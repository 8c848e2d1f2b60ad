// The AWS resource readers beyond EC2 machines, one per class of resource. Adding one: a module that
// exports an `AwsResourceReader` (./types) and one entry below; the inventory runs it for alerts
// naming its types and in every re-scan.
import type { AwsResourceReader } from './types';

export const awsResourceReaders: readonly AwsResourceReader[] = [];

export type { AwsRegionSession, AwsResourceReader } from './types';
