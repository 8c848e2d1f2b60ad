// The re-scan's activities: read one inventory scope whole and judge it (scanScope), then hand each
// violation to its investigation (dispatchViolations) — archived first, like every alert.
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import ipaddr from 'ipaddr.js';
import { RESCAN_SOURCE } from '../../lib/alert';
import { mapConcurrent } from '../../lib/concurrency';
import type { RescanSettings } from '../../lib/config';
import type { ContextProblem, ProviderContext } from '../../lib/context';
import type { Delivery } from '../../lib/delivery';
import { isInternetWide } from '../../lib/internet';
import type { Archive } from '../archive/types';
import type { InventoryProvider } from '../context/types';
import type { AcceptedRisks, StoredAcceptance } from '../response/accepted-risk';
import { rescanAlert, type RescanViolation } from './alert';
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
  /** Risks accepted on issues (`/vigil accept`), honoured beside `rescan.allow`. */
  accepted: Pick<AcceptedRisks, 'list'>;
}

/** Every scope of every provider that can be re-scanned, for the schedules. */
export function rescanScopes(inventory: readonly InventoryProvider[]): ScopeRef[] {
  return inventory.flatMap((provider) => (provider.scan && provider.scopes ? provider.scopes().map((scope) => ({ provider: provider.name, scope })) : []));
}

/** What the alert of one violation needs, compact enough for the re-scan workflow's history. */
export function violationOf(finding: RescanFinding, context: ProviderContext, sensitivePorts: readonly number[]): RescanViolation {
  if ('resource' in finding) {
    const { type, id, name, class: kind, account, region, reasons, proofs } = finding.resource;
    const endpoints = proofs.flatMap((proof) => (proof.kind === 'endpoint' ? [proof] : []));
    return {
      resource: { type, id, class: kind, ...(name ? { name } : {}) },
      ...(account ? { account } : {}),
      ...(region ? { region } : {}),
      reasons,
      // Host names are left to the investigation, which resolves them through the probe scope.
      publicAddresses: [...new Set(endpoints.map((proof) => proof.host).filter((host) => ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host)))],
      ports: [...new Set(endpoints.flatMap((proof) => proof.ports))].sort((a, b) => a - b),
    };
  }
  const { instance, exposures } = finding;
  const ruleIds = new Set(exposures.map((exposure) => exposure.rule));
  const rules = context.rules.filter((rule) => ruleIds.has(rule.id));
  return {
    instance: { id: instance.id, type: instance.type, ...(instance.name ? { name: instance.name } : {}) },
    ...(instance.account ? { account: instance.account } : {}),
    ...(instance.region ? { region: instance.region } : {}),
    publicAddresses: [...new Set(exposures.map((exposure) => exposure.address))],
    ports: exposedSensitivePorts(exposures, sensitivePorts),
    cidrs: [...new Set(rules.flatMap((rule) => rule.sources.filter(isInternetWide)))],
    rules: rules.map((rule) => ({ id: rule.id, name: rule.name })),
  };
}

const DISPATCH_CONCURRENCY = 16;

export function createRescanActivities({ inventory, settings, archive, delivery, accepted }: RescanDeps) {
  /** Archives the violation's alert, then re-checks its running investigation or starts one. */
  async function dispatchOne(provider: string, scope: string, violation: RescanViolation, scannedAt: string): Promise<keyof DispatchCounts> {
    const body = Buffer.from(JSON.stringify(rescanAlert(provider, scope, violation, scannedAt)));
    const record = await archive.put({ source: RESCAN_SOURCE, body, contentType: 'application/json', headers: {} });
    const outcome = await delivery.deliver({ ...record, source: RESCAN_SOURCE }, body);
    if ('rejected' in outcome) throw ApplicationFailure.nonRetryable(`the re-scan's own alert was rejected: ${outcome.rejected}`, 'RescanAlertRejected');
    const [accepted] = outcome.alerts;
    if (!accepted?.dispatched) return 'undispatched';
    return accepted.rechecked ? 'rechecked' : 'started';
  }

  return {
    /** Reads one scope whole and judges it against the re-scan settings. */
    async scanScope({ provider, scope }: ScopeRef): Promise<ScopeScan> {
      const reader = inventory.find((candidate) => candidate.name === provider);
      if (!reader?.scan) throw ApplicationFailure.nonRetryable(`inventory.${provider} is not configured, or cannot be re-scanned`, 'RescanNotConfigured');
      const scannedAt = new Date().toISOString();
      const context = await reader.scan(scope);
      const acceptances: StoredAcceptance[] = [];
      for await (const acceptance of accepted.list()) acceptances.push(acceptance);
      const { violations, allowed } = evaluateRescan(context, settings, scannedAt.slice(0, 10), acceptances);
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
      await mapConcurrent(violations, DISPATCH_CONCURRENCY, async (violation) => {
        counts[await dispatchOne(provider, scope, violation, scannedAt)] += 1;
        heartbeat(counts);
      });
      return counts;
    },
  };
}

export type RescanActivities = ReturnType<typeof createRescanActivities>;
