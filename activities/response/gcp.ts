// The GCP remediation executor: disables a VPC firewall rule that opens an answering endpoint to
// the internet, or, when the rule also serves other sources, removes only its internet-wide source
// ranges; and enforces public access prevention on a Cloud Storage bucket shown public. Every
// change reads first (a retry after a lost answer finds it made: `already`), records what was
// there for an exact undo, and is read again once made, since an accepted patch is not proof.
import { ApplicationFailure } from '@temporalio/common';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { ResponseSettings } from '../../lib/config';
import type { ContextInstance, PublicResource, ResourceContext } from '../../lib/context';
import { isInternetWide } from '../../lib/internet';
import type { ExecutionRecord, RemediationAction } from '../../lib/response';
import { createGoogleRest, operationSchema } from './gcp-rest';
import type { ProposedRemediation, RemediationExecutor } from './types';

type FirewallAction = Extract<RemediationAction, { kind: 'gcp-firewall-disable' | 'gcp-firewall-narrow' }>;
type BucketAction = Extract<RemediationAction, { kind: 'gcp-bucket-public-access-prevention' }>;

const FIREWALL_ID = /^projects\/([^/]+)\/global\/firewalls\/([^/]+)$/;

/** Lists the API leaves out when empty read as empty. */
const list = z
  .array(z.string())
  .optional()
  .transform((items) => items ?? []);

/** A firewall as the executor reads it from `compute.firewalls.get`. */
const firewallSchema = z.looseObject({
  name: z.string(),
  network: z.string().optional(),
  disabled: z.boolean().optional(),
  sourceRanges: list,
  sourceTags: list,
  sourceServiceAccounts: list,
  targetTags: list,
  targetServiceAccounts: list,
  allowed: z.array(z.looseObject({ IPProtocol: z.string(), ports: list })).optional(),
});
type Firewall = z.infer<typeof firewallSchema>;

/** A bucket as the executor reads it from `storage.buckets.get`. */
const bucketSchema = z.looseObject({
  name: z.string(),
  metageneration: z.string(),
  iamConfiguration: z.looseObject({ publicAccessPrevention: z.string().optional() }).optional(),
});

/** What a firewall change records for its undo. */
const firewallBeforeSchema = z.object({ disabled: z.boolean(), sourceRanges: z.array(z.string()) });
type FirewallBefore = z.infer<typeof firewallBeforeSchema>;
/** What a bucket change records for its undo: the previous value (`inherited`, or the older `unspecified`). */
const bucketBeforeSchema = z.object({ publicAccessPrevention: z.string() });

const firewallPath = (action: { project: string; firewall: string }) => `projects/${action.project}/global/firewalls/${action.firewall}`;
const firewallUrlPath = (action: { project: string; firewall: string }) => `projects/${encodeURIComponent(action.project)}/global/firewalls/${encodeURIComponent(action.firewall)}`;

/** JSON as the plans show it: one line, a space after each colon and comma. */
const oneLine = (value: unknown) =>
  JSON.stringify(value, null, 1)
    .replace(/,\n\s*/g, ', ')
    .replace(/\n\s*/g, '');

const firewallCall = (action: { project: string; firewall: string }, change: Partial<FirewallBefore>) => `compute.firewalls.patch ${firewallPath(action)} ${oneLine(change)}`;
const bucketCall = (bucket: string, value: string) => `storage.buckets.patch b/${bucket} ${oneLine({ iamConfiguration: { publicAccessPrevention: value } })}`;

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item, index) => item === b[index]);

/** `127.0.0.5:22` / `[2001:db8::1]:443` → address (normalised) and port. */
function endpointOf(endpoint: string): { address: string; port: number } | undefined {
  const match = /^\[(.+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  return match ? { address: normalised(match[1]!), port: Number(match[2]) } : undefined;
}
const normalised = (address: string) => (ipaddr.isValid(address) ? ipaddr.parse(address).toString() : address);

/** The firewall's other sources: ranges that are not internet-wide, source tags, source service accounts. */
function otherSources(firewall: Pick<Firewall, 'sourceRanges' | 'sourceTags' | 'sourceServiceAccounts'>): string[] {
  return [...firewall.sourceRanges.filter((range) => !isInternetWide(range)), ...firewall.sourceTags.map((tag) => `tag:${tag}`), ...firewall.sourceServiceAccounts];
}

/**
 * The read's answer, or its refusal in words: a plan is still proposed from the inventory's view
 * (saying so), since the refusal is the response identity's to fix, and said again if approved.
 */
async function readOrRefusal<T extends object>(read: () => Promise<T>): Promise<T | { refusal: string }> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === 'RemediationRefused') return { refusal: error.message };
    throw error;
  }
}

/** The firewall as the context's rule shows it: its sources (`tag:` references among them), nothing of its targets. */
function firewallFromContext(name: string, ruleId: string, context: ResourceContext): Firewall | undefined {
  const rule = context.rules.find((candidate) => candidate.id === ruleId);
  if (!rule) return undefined;
  const ranges = rule.sources.filter((source) => ipaddr.isValidCIDR(source));
  const tags = rule.sources.filter((source) => source.startsWith('tag:')).map((source) => source.slice(4));
  const accounts = rule.sources.filter((source) => !ranges.includes(source) && !source.startsWith('tag:'));
  return { name, sourceRanges: ranges, sourceTags: tags, sourceServiceAccounts: accounts, targetTags: [], targetServiceAccounts: [] };
}

/** One line per machine: its name, id and public addresses. */
const machine = (instance: ContextInstance) =>
  `${instance.name ?? instance.id} (${instance.id})${instance.publicAddresses.length > 0 ? ` ${instance.publicAddresses.join(', ')}` : ''}`;

/** Whom the firewall applies to, and the machines of the context it reaches. */
function servesOf(firewall: Firewall, context: ResourceContext, ruleId: string): string[] {
  const network = firewall.network?.match(/projects\/[^/]+\/global\/networks\/[^/]+$/)?.[0] ?? firewall.network;
  const exposed = new Set(context.exposures.filter((exposure) => exposure.rule === ruleId).map((exposure) => exposure.instance));
  const tagged = (instance: ContextInstance) => firewall.targetTags.some((tag) => `tag:${tag}` in instance.tags);
  const gcpInstances = context.instances.filter((instance) => instance.provider === 'gcp');
  let scope: string;
  let known: ContextInstance[];
  if (!firewall.network) {
    // Judged from the context's rule alone: its targets are not known.
    scope = 'Its targets could not be read; the context shows the machines it exposes';
    known = gcpInstances.filter((instance) => exposed.has(instance.id));
  } else if (firewall.targetServiceAccounts.length > 0) {
    scope = `Applies to every instance of ${network} running as ${firewall.targetServiceAccounts.join(', ')}; the context shows only those it exposes`;
    known = gcpInstances.filter((instance) => exposed.has(instance.id));
  } else if (firewall.targetTags.length > 0) {
    scope = `Applies to every instance of ${network} tagged ${firewall.targetTags.join(', ')}`;
    known = gcpInstances.filter((instance) => exposed.has(instance.id) || tagged(instance));
  } else {
    scope = `Applies to every instance of ${network} (no target tags or service accounts)`;
    known = gcpInstances.filter((instance) => exposed.has(instance.id) || instance.account === firewall.network?.match(/projects\/([^/]+)\//)?.[1]);
  }
  const allowed = (firewall.allowed ?? []).map((permission) => (permission.ports.length > 0 ? `${permission.IPProtocol} ${permission.ports.join(', ')}` : `${permission.IPProtocol} (all ports)`));
  return [scope, ...(allowed.length > 0 ? [`Allows ${allowed.join('; ')}`] : []), ...known.map(machine)];
}

export function createGcpExecutor(settings: ResponseSettings['gcp']): RemediationExecutor {
  const rest = createGoogleRest(settings);
  const readFirewall = async (action: { project: string; firewall: string }) =>
    (await rest.call('compute', 'GET', firewallUrlPath(action), firewallSchema)).data;

  /** Patches the firewall, waits for its operation and reads it again: the operation's name for the audit. */
  async function patchFirewall(action: FirewallAction, change: Partial<FirewallBefore>, holds: (firewall: Firewall) => boolean): Promise<string[]> {
    const call = firewallCall(action, change);
    // `name` is required in the body of a patch by the API's description.
    const { data: operation } = await rest.call('compute', 'PATCH', firewallUrlPath(action), operationSchema, { body: { name: action.firewall, ...change } });
    const done = await rest.finish(call, action.project, operation);
    if (!holds(await readFirewall(action))) {
      throw ApplicationFailure.nonRetryable(`${call}: operation ${done.name} is done, but the firewall does not show the change`, 'RemediationRefused');
    }
    return [done.name];
  }

  const readBucket = async (bucket: string) => (await rest.call('storage', 'GET', `b/${encodeURIComponent(bucket)}`, bucketSchema)).data;

  /** Sets the bucket's public access prevention, only if nobody changed the bucket since it was read. */
  async function patchBucket(bucket: string, metageneration: string, value: string): Promise<string[]> {
    const { data, requestIds } = await rest.call('storage', 'PATCH', `b/${encodeURIComponent(bucket)}`, bucketSchema, {
      body: { iamConfiguration: { publicAccessPrevention: value } },
      query: { ifMetagenerationMatch: metageneration },
    });
    if (data.iamConfiguration?.publicAccessPrevention !== value) {
      throw ApplicationFailure.nonRetryable(`${bucketCall(bucket, value)}: the bucket answered ${String(data.iamConfiguration?.publicAccessPrevention)}`, 'RemediationRefused');
    }
    return requestIds;
  }

  const record = (outcome: ExecutionRecord['outcome'], apiCall: string, requestIds: string[], before?: unknown): ExecutionRecord => ({
    outcome,
    apiCall,
    requestIds,
    ...(before === undefined || outcome === 'dry-run' ? {} : { before }),
    at: new Date().toISOString(),
  });

  async function proposeFirewall(ruleId: string, context: ResourceContext): Promise<ProposedRemediation | undefined> {
    const [, project, name] = FIREWALL_ID.exec(ruleId) as unknown as [string, string, string];
    const target = { project, firewall: name };
    const read = await readOrRefusal(() => readFirewall(target));
    const firewall = 'refusal' in read ? firewallFromContext(name, ruleId, context) : read;
    if (!firewall) return undefined;
    const internet = firewall.sourceRanges.filter(isInternetWide);
    // Closed since the context was read (disabled, or narrowed by someone): nothing to propose.
    if (firewall.disabled || internet.length === 0) return undefined;
    const others = otherSources(firewall);
    const serves = [...servesOf(firewall, context, ruleId), ...('refusal' in read ? [`Judged from the inventory: ${read.refusal}`] : [])];
    const ports = (firewall.allowed ?? []).map((permission) => `${permission.IPProtocol}${permission.ports.length > 0 ? `/${permission.ports.join(',')}` : ''}`).join(', ');
    if (others.length > 0) {
      const remaining = firewall.sourceRanges.filter((range) => !internet.includes(range));
      return {
        title: `Narrow firewall ${name} (${project}): remove ${internet.join(', ')}, keep ${others.join(', ')}`,
        action: { kind: 'gcp-firewall-narrow', project, firewall: name, removeRanges: internet },
        apiCall: firewallCall(target, { sourceRanges: remaining }),
        serves: [...serves, `Keeps its other sources: ${others.join(', ')}`],
        expected: `${ports || 'the ports it allows'} no longer open to the internet through ${name}; still open to ${others.join(', ')}`,
        undo: `${firewallCall(target, { sourceRanges: firewall.sourceRanges })} (the source ranges as they were, in their order)`,
      };
    }
    return {
      title: `Disable firewall ${name} (${project}): it allows ${ports || 'traffic'} from ${internet.join(', ')}`,
      action: { kind: 'gcp-firewall-disable', project, firewall: name },
      apiCall: firewallCall(target, { disabled: true }),
      serves,
      expected: `${ports || 'the ports it allows'} no longer open to the internet through ${name} (the rule stays, disabled)`,
      undo: firewallCall(target, { disabled: false }),
    };
  }

  async function proposeBucket(resource: PublicResource): Promise<ProposedRemediation | undefined> {
    const read = await readOrRefusal(() => readBucket(resource.id));
    const previous = ('refusal' in read ? resource.facts['public access prevention'] : read.iamConfiguration?.publicAccessPrevention) ?? 'inherited';
    if (previous === 'enforced') return undefined;
    return {
      title: `Enforce public access prevention on bucket ${resource.id}`,
      action: { kind: 'gcp-bucket-public-access-prevention', project: resource.account ?? '_', bucket: resource.id },
      apiCall: bucketCall(resource.id, 'enforced'),
      serves: [
        `Everyone outside the organisation loses access to every object of gs://${resource.id}: public links and websites served from it stop working`,
        ...resource.reasons.map((reason) => `Public because ${reason}`),
        ...('refusal' in read ? [`Judged from the inventory: ${read.refusal}`] : []),
      ],
      expected: `gs://${resource.id} refuses allUsers and allAuthenticatedUsers (anonymous listing and reads fail)`,
      undo: bucketCall(resource.id, previous === 'unspecified' ? 'inherited' : previous),
    };
  }

  async function executeFirewall(action: FirewallAction, dryRun: boolean): Promise<ExecutionRecord> {
    const firewall = await readFirewall(action);
    if (action.kind === 'gcp-firewall-disable') {
      const apiCall = firewallCall(action, { disabled: true });
      // Already disabled (a retry after a lost answer, or a person): the plan was made on it enabled.
      const before = { disabled: false, sourceRanges: firewall.sourceRanges };
      // Narrowed since the plan (a person replaced the internet-wide range): disabling it now would cut
      // what it admits today, which is not what was approved.
      if (!firewall.disabled && !firewall.sourceRanges.some(isInternetWide)) {
        throw ApplicationFailure.nonRetryable(
          `${apiCall}: ${firewallPath(action)} no longer admits the internet (source ranges ${firewall.sourceRanges.join(', ') || 'none'}): not disabled; a new plan is needed`,
          'RemediationRefused',
        );
      }
      if (dryRun) return record('dry-run', apiCall, []);
      if (firewall.disabled) return record('already', apiCall, [], before);
      return record('changed', apiCall, await patchFirewall(action, { disabled: true }, (now) => now.disabled === true), before);
    }
    const remaining = firewall.sourceRanges.filter((range) => !action.removeRanges.includes(range));
    const apiCall = firewallCall(action, { sourceRanges: remaining });
    if (dryRun) return record('dry-run', apiCall, []);
    if (remaining.length === firewall.sourceRanges.length) {
      // Already narrowed: what was there is the plan's ranges back after the ones left.
      return record('already', apiCall, [], { disabled: firewall.disabled ?? false, sourceRanges: [...firewall.sourceRanges, ...action.removeRanges] });
    }
    // With no range, tag or service account left, GCP would read the rule as open to 0.0.0.0/0.
    if (remaining.length === 0 && firewall.sourceTags.length === 0 && firewall.sourceServiceAccounts.length === 0) {
      throw ApplicationFailure.nonRetryable(`${apiCall}: the firewall has no other source left to keep; disable it instead`, 'RemediationRefused');
    }
    const before = { disabled: firewall.disabled ?? false, sourceRanges: firewall.sourceRanges };
    return record('changed', apiCall, await patchFirewall(action, { sourceRanges: remaining }, (now) => sameList(now.sourceRanges, remaining)), before);
  }

  async function undoFirewall(action: FirewallAction, execution: ExecutionRecord, dryRun: boolean): Promise<ExecutionRecord> {
    const before = firewallBeforeSchema.safeParse(execution.before);
    if (!before.success) throw ApplicationFailure.nonRetryable(`undo of ${firewallPath(action)}: the execution recorded no previous state`, 'RemediationRefused');
    const firewall = await readFirewall(action);
    if (action.kind === 'gcp-firewall-disable') {
      const apiCall = firewallCall(action, { disabled: before.data.disabled });
      if (dryRun) return record('dry-run', apiCall, []);
      if ((firewall.disabled ?? false) === before.data.disabled) return record('already', apiCall, []);
      return record('changed', apiCall, await patchFirewall(action, { disabled: before.data.disabled }, (now) => (now.disabled ?? false) === before.data.disabled));
    }
    // The ranges as they were, in their order, keeping any a person added since (after them).
    const wanted = [
      ...before.data.sourceRanges.filter((range) => firewall.sourceRanges.includes(range) || action.removeRanges.includes(range)),
      ...firewall.sourceRanges.filter((range) => !before.data.sourceRanges.includes(range)),
    ];
    const apiCall = firewallCall(action, { sourceRanges: wanted });
    if (dryRun) return record('dry-run', apiCall, []);
    if (sameList(firewall.sourceRanges, wanted)) return record('already', apiCall, []);
    return record('changed', apiCall, await patchFirewall(action, { sourceRanges: wanted }, (now) => sameList(now.sourceRanges, wanted)));
  }

  async function executeBucket(action: BucketAction, dryRun: boolean): Promise<ExecutionRecord> {
    const bucket = await readBucket(action.bucket);
    const apiCall = bucketCall(action.bucket, 'enforced');
    const previous = bucket.iamConfiguration?.publicAccessPrevention ?? 'inherited';
    if (dryRun) return record('dry-run', apiCall, []);
    // Already enforced: before the plan it was not, and `inherited` is the only other setting.
    if (previous === 'enforced') return record('already', apiCall, [], { publicAccessPrevention: 'inherited' });
    return record('changed', apiCall, await patchBucket(action.bucket, bucket.metageneration, 'enforced'), { publicAccessPrevention: previous });
  }

  async function undoBucket(action: BucketAction, execution: ExecutionRecord, dryRun: boolean): Promise<ExecutionRecord> {
    const before = bucketBeforeSchema.safeParse(execution.before);
    if (!before.success) throw ApplicationFailure.nonRetryable(`undo of gs://${action.bucket}: the execution recorded no previous setting`, 'RemediationRefused');
    // `unspecified` is the older name of `inherited`, which is what can be set.
    const value = before.data.publicAccessPrevention === 'unspecified' ? 'inherited' : before.data.publicAccessPrevention;
    const bucket = await readBucket(action.bucket);
    const apiCall = bucketCall(action.bucket, value);
    if (dryRun) return record('dry-run', apiCall, []);
    const current = bucket.iamConfiguration?.publicAccessPrevention ?? 'inherited';
    if (current === value || (value === 'inherited' && current === 'unspecified')) return record('already', apiCall, []);
    return record('changed', apiCall, await patchBucket(action.bucket, bucket.metageneration, value));
  }

  return {
    provider: 'gcp',
    kinds: ['gcp-firewall-disable', 'gcp-firewall-narrow', 'gcp-bucket-public-access-prevention'],

    async propose({ context, answered, proven }) {
      const endpoints = answered.map(endpointOf).filter((endpoint) => endpoint !== undefined);
      const rules = new Set(
        context.exposures
          .filter((exposure) => FIREWALL_ID.test(exposure.rule))
          .filter((exposure) => endpoints.some(({ address, port }) => address === normalised(exposure.address) && port >= exposure.ports.from && port <= exposure.ports.to))
          .map((exposure) => exposure.rule),
      );
      const plans: ProposedRemediation[] = [];
      for (const rule of rules) {
        const plan = await proposeFirewall(rule, context);
        if (plan) plans.push(plan);
      }
      const buckets = (context.resources ?? []).filter((resource) => resource.provider === 'gcp' && resource.type === 'gcp:storage:bucket' && proven.includes(resource.id));
      for (const bucket of buckets) {
        const plan = await proposeBucket(bucket);
        if (plan) plans.push(plan);
      }
      return plans;
    },

    execute(action, dryRun) {
      if (action.kind === 'gcp-bucket-public-access-prevention') return executeBucket(action, dryRun);
      if (action.kind === 'gcp-firewall-disable' || action.kind === 'gcp-firewall-narrow') return executeFirewall(action, dryRun);
      throw ApplicationFailure.nonRetryable(`the GCP executor does not carry out ${action.kind}`, 'RemediationRefused');
    },

    undo(action, execution, dryRun) {
      if (action.kind === 'gcp-bucket-public-access-prevention') return undoBucket(action, execution, dryRun);
      if (action.kind === 'gcp-firewall-disable' || action.kind === 'gcp-firewall-narrow') return undoFirewall(action, execution, dryRun);
      throw ApplicationFailure.nonRetryable(`the GCP executor does not undo ${action.kind}`, 'RemediationRefused');
    },
  };
}
