// The contract of an AWS resource reader: one per class of resource beyond machines (buckets,
// databases, load balancers, snapshots and images, serverless entry points). Readers are listed in
// ./index.ts; the AWS inventory runs them beside its EC2 reading, for an alert and for a re-scan.
import type { ResourceRef } from '../../../../lib/alert';
import type { PublicResource } from '../../../../lib/context';
import type { Credentials } from '../inventory';

/** What a reader needs to read one account in one region. */
export interface AwsRegionSession {
  account: string;
  region: string;
  /**
   * The SDK client configuration for this account and region: the role assumed there, the endpoint
   * (moto in tests), the retry policy. Each reader builds its own client from it, loading its SDK
   * only when it first reads (a worker that never meets a database never loads the RDS client).
   */
  clientConfig: { region: string; endpoint?: string; credentials?: Credentials; maxAttempts: number; retryMode: 'adaptive' };
  /** Items per page of paginated calls, when set (tests use small pages to exercise paging). */
  pageSize?: number;
  /**
   * The accounts Vigil covers (hand-listed and the organisation's): sharing a snapshot or image with
   * one of them is not public; sharing with any other account is.
   */
  ownAccounts(): Promise<ReadonlySet<string>>;
}

export interface AwsResourceReader {
  /** The alert resource types it answers for (`aws:s3:bucket`, `aws:rds:db-instance`…). */
  readonly types: readonly string[];
  /**
   * Resources that are not regional (S3 buckets, listed once per account): read once per alert and
   * in the re-scan of the account's first region in sorted order, whatever region the alert names.
   */
  readonly global?: boolean;
  /**
   * The resources the alert names (ids as sources give them: names, ids or ARNs), as read now, public
   * or not; one that no longer exists is left out. A lasting refusal (AccessDenied) is thrown as is:
   * the inventory turns it into a problem on the issue; other failures are retried by Temporal.
   */
  collect(session: AwsRegionSession, refs: readonly ResourceRef[]): Promise<PublicResource[]>;
  /** Every resource of its kind in the account and region, public or not. */
  scan(session: AwsRegionSession): Promise<PublicResource[]>;
}
