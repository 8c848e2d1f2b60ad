// The GCP inventory as the registry knows it: its settings (`inventory.gcp`), validated without the
// Cloud Asset client, and the reader (./inventory), loaded only when configured, like the AWS SDK.
import { z } from 'zod';
import { secretSchema } from '../../../lib/config';
import type { InventoryDefinition } from '../types';

const settingsSchema = z.strictObject({
  /** Where the Cloud Asset API is read: `organizations/123`, `folders/456`, `projects/my-project`. */
  scopes: z.array(z.string().regex(/^(organizations|folders|projects)\/[^/\s]+$/, 'expected organizations/<id>, folders/<id> or projects/<id>')).default([]),
  /** Another Cloud Asset endpoint, for example `http://127.0.0.1:9090` (a test server). */
  endpoint: z.url().optional(),
  /** A service-account key file; otherwise Application Default Credentials. */
  keyFile: z.string().min(1).optional(),
  /** A preset OAuth access token (test servers and short-lived tokens minted elsewhere). */
  accessToken: secretSchema.optional(),
});

export type GcpInventorySettings = z.output<typeof settingsSchema>;

export const gcpInventory: InventoryDefinition<GcpInventorySettings> = {
  name: 'gcp',
  settings: settingsSchema,
  create: async (settings) => (await import('./inventory')).createGcpInventory(settings),
};
