// The re-scan's activities: read one inventory scope whole and judge it (scanScope), then hand each
// violation to its investigation (dispatchViolations) — archived first, like every alert.
import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Delivery } from '../../intake/deliver';
import { investigationWorkflowId } from '../../lib/workflow-id';
import type { RescanSettings } from '../../lib/config';
import type { ContextProblem, ProviderContext } from '../../lib/context';
import { isInternetWide } from '../../lib/internet';
import { recheckNow } from '../../workflows/definitions';
import type { Archive } from '../archive/types';
import type { InventoryProvider } from '../context/types';
import { RESCAN_SOURCE, rescanAlert, rescanFingerprint, type RescanViolation } from './alert';
import { evaluateRescan, exposedSensitivePorts, type AllowedInstance, type RescanFinding } from './evaluate';

export type { RescanViolation } from './alert';

export interface ScopeRef {
  provider: string;
  scope: string;
}

/** What one scope holds, compact enough for a workflow's history. */
export interface ScopeScan {
  /** When it was read: the violations' `occurredAt`, so a retried dispatch archives the same bodies. */
  scannedAt: string;
  instances: number;
  violations: RescanViolation[];
  allowed: AllowedInstance[];
  problems: ContextProblem[];
}

export interface DispatchCounts {
  /** Investigations started (or a new run of one that had ended): each opens or reopens its issue. */
  started: number;
  /** Investigations already running, asked for an immediate re-check. */
  rechecked: number;
  /** Archived but not handed to Temporal in time: the archive sweeper dispatches them. */
  undispatched: number;
}

export interface RescanDeps {
  inventory: readonly InventoryProvider[];
  settings: RescanSettings;
  archive: Archive;
  delivery: Pick<Delivery, 'deliver'>;
  client: Client;
}

/** Every scope of every provider that can be re-scanned, for the schedules. */
export function rescanScopes(inventory: readonly InventoryProvider[]): ScopeRef[] {
  return inventory.flatMap((provider) => (provider.scan && provider.scopes ? provider.scopes().map((scope) => ({ provider: provider.name, scope })) : []));
}

function violationOf({ instance, exposures }: RescanFinding, context: ProviderContext, sensitivePorts: readonly number[]): RescanViolation {
  const ruleIds = new Set(exposures.map((exposure) => exposure.rule));
  const rules = context.rules.filter((rule) => ruleIds.has(rule.id));
  return {
    instance: { id: instance.id, ...(instance.name ? { name: instance.name } : {}) },
    ...(instance.account ? { account: instance.account } : {}),
    ...(instance.region ? { region: instance.region } : {}),
    publicAddresses: [...new Set(exposures.map((exposure) => exposure.address))],
    ports: exposedSensitivePorts(exposures, sensitivePorts),
    cidrs: [...new Set(rules.flatMap((rule) => rule.sources.filter(isInternetWide)))],
    rules: rules.map((rule) => ({ id: rule.id, name: rule.name })),
  };
}

const DISPATCH_CONCURRENCY = 16;

export function createRescanActivities({ inventory, settings, archive, delivery, client }: RescanDeps) {
  /** Archives the violation's alert, then re-checks its running investigation or starts one. */
  async function dispatchOne(provider: string, scope: string, violation: RescanViolation, scannedAt: string): Promise<keyof DispatchCounts> {
    const alert = rescanAlert(provider, scope, violation, scannedAt);
    const record = await archive.put({ source: RESCAN_SOURCE, body: Buffer.from(JSON.stringify(alert)), contentType: 'application/json', headers: {} });
    const workflowId = investigationWorkflowId(RESCAN_SOURCE, rescanFingerprint(provider, violation));
    try {
      // A violation already under investigation gets a re-check, not a "seen again" comment.
      await client.workflow.getHandle(workflowId).signal(recheckNow);
      await archive.markDispatched(record.id, [workflowId]);
      return 'rechecked';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const accepted = await delivery.deliver(record, RESCAN_SOURCE, alert);
    return accepted.every((one) => one.dispatched) ? 'started' : 'undispatched';
  }

  return {
    /** Reads one scope whole and judges it against the re-scan settings. */
    async scanScope({ provider, scope }: ScopeRef): Promise<ScopeScan> {
      const reader = inventory.find((candidate) => candidate.name === provider);
      if (!reader?.scan) throw ApplicationFailure.nonRetryable(`inventory.${provider} is not configured, or cannot be re-scanned`, 'RescanNotConfigured');
      const scannedAt = new Date().toISOString();
      const context = await reader.scan(scope);
      const { violations, allowed } = evaluateRescan(context, settings, scannedAt.slice(0, 10));
      return {
        scannedAt,
        instances: context.instances.length,
        violations: violations.map((finding) => violationOf(finding, context, settings.sensitivePorts)),
        allowed,
        problems: context.problems,
      };
    },

    /** Hands every violation to its investigation; idempotent for the same scan. */
    async dispatchViolations({ provider, scope, violations, scannedAt }: ScopeRef & Pick<ScopeScan, 'violations' | 'scannedAt'>): Promise<DispatchCounts> {
      const counts: DispatchCounts = { started: 0, rechecked: 0, undispatched: 0 };
      for (let start = 0; start < violations.length; start += DISPATCH_CONCURRENCY) {
        const outcomes = await Promise.all(violations.slice(start, start + DISPATCH_CONCURRENCY).map((violation) => dispatchOne(provider, scope, violation, scannedAt)));
        for (const outcome of outcomes) counts[outcome] += 1;
        heartbeat(counts);
      }
      return counts;
    },
  };
}

export type RescanActivities = ReturnType<typeof createRescanActivities>;
