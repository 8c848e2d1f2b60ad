// The AWS inventory as the registry knows it: its settings (`inventory.aws`), validated without the
// SDK, and the EC2 reader (./inventory), loaded only when configured: the EC2 client alone adds
// about 90 MiB to a worker that never reads AWS. Accounts are hand-listed (`accounts`), discovered
// through AWS Organizations (`organization`), or both.
import { z } from 'zod';
import { secretSchema } from '../../../lib/config';
import type { InventoryDefinition } from '../types';

const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');

const accountSchema = z.strictObject({
  /** The 12-digit account id, as alerts name it. */
  id: accountId,
  /** The role to assume there; defaults to `arn:aws:iam::<id>:role/<inventory.aws.roleName>`. */
  roleArn: z.string().startsWith('arn:').optional(),
  /** Read with the worker's own credentials instead of assuming a role (the account Vigil runs in). */
  useOwnCredentials: z.boolean().default(false),
  /** Overrides inventory.aws.regions for this account. */
  regions: z.array(z.string().min(1)).min(1).optional(),
});

/**
 * The accounts of an AWS organisation, listed with the worker's own credentials (it runs in the
 * management account or a delegated administrator) and read through a role assumed in each.
 */
const organizationSchema = z.strictObject({
  /** The role assumed in each discovered account; inventory.aws.roleName when unset. */
  roleName: z.string().min(1).optional(),
  /**
   * Where each discovered account is read first, its enabled regions listed there (us-east-1, which
   * no account can disable). Set it when a service control policy denies us-east-1.
   */
  homeRegion: z.string().min(1).optional(),
  /** Only these regions of each account (those it has enabled); otherwise every region it has enabled. */
  regions: z.array(z.string().min(1)).min(1).optional(),
  /** Only the accounts under these organisational units (or roots), at any depth; otherwise every account. */
  ous: z
    .array(z.string().regex(/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/, 'expected an organisational unit id (ou-…) or a root id (r-…)'))
    .min(1)
    .optional(),
  /** Accounts left out. */
  exclude: z.array(accountId).default([]),
  /** Another Organizations API (moto); inventory.aws.endpoint when unset. */
  endpoint: z.url().optional(),
});

const settingsSchema = z.strictObject({
  /** Hand-listed accounts; they keep their own settings when the organisation lists them too. */
  accounts: z.array(accountSchema).default([]),
  organization: organizationSchema.optional(),
  /** The read-only role Vigil assumes in every account (docs/inventories.md has its policy). */
  roleName: z.string().min(1).default('VigilReadOnly'),
  externalId: secretSchema.optional(),
  /** Regions read when the alert does not name one. */
  regions: z.array(z.string().min(1)).min(1).default(['us-east-1']),
  /** An AWS-compatible API (moto, LocalStack) for EC2 and STS. */
  endpoint: z.url().optional(),
  /** Attempts per call, throttling included (the SDK's adaptive retry). */
  maxAttempts: z.int().min(1).max(20).default(8),
});

export type AwsInventorySettings = z.output<typeof settingsSchema>;

export const awsInventory: InventoryDefinition<AwsInventorySettings> = {
  name: 'aws',
  settings: settingsSchema,
  create: async (settings) => (await import('./inventory')).createAwsInventory(settings),
};
