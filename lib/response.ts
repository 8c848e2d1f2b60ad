// Response: the remediations an investigation proposes for a proven exposure, the commands people
// give on the issue (`/vigil remediate p1`), and what each step did. Shared by the workflow (which
// keeps the plans and validates the commands), the activities (which read and change the cloud)
// and intake (which turns issue comments into the `responseCommand` update). Plain data only.
import { defineUpdate } from '@temporalio/workflow';

/** One security-group permission exactly as it was, so that an undo authorises it back as it was. */
export interface SecurityGroupPermission {
  /** `tcp`, `udp`, `icmp`, `-1` (all): as EC2 names it. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  /** Exactly one of these three. */
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  description?: string;
}

/** A concrete change to the cloud: what an executor carries out and an undo reverses. */
export type RemediationAction =
  /** Revoke one ingress rule of a security group by its rule id (`sgr-…`). */
  | { kind: 'aws-revoke-ingress'; account: string; region: string; groupId: string; ruleId: string; permission: SecurityGroupPermission }
  /** Turn on all four Block Public Access settings of one bucket. */
  | { kind: 'aws-s3-block-public-access'; account: string; region: string; bucket: string }
  /** Disable a VPC firewall rule (it stays, with `disabled: true`). */
  | { kind: 'gcp-firewall-disable'; project: string; firewall: string }
  /** Drop the internet-wide ranges from a firewall's source ranges, keeping the others. */
  | { kind: 'gcp-firewall-narrow'; project: string; firewall: string; removeRanges: string[] }
  /** Enforce public access prevention on a Cloud Storage bucket. */
  | { kind: 'gcp-bucket-public-access-prevention'; project: string; bucket: string };

export type RemediationKind = RemediationAction['kind'];

/** A remediation shown on the issue as a plan; people refer to it by `id`. */
export interface RemediationPlan {
  /** Short and typeable, unique within the investigation: `p1`, `p2`… */
  id: string;
  /** One line: `Revoke tcp/22 from 0.0.0.0/0 on sg-0abc… (web)`. */
  title: string;
  action: RemediationAction;
  /** The exact API change: `ec2:RevokeSecurityGroupIngress GroupId=sg-… SecurityGroupRuleIds=sgr-…`. */
  apiCall: string;
  /** What else the rule or resource serves (other machines behind the group, other targets): said before anyone approves. */
  serves: string[];
  /** What should follow: `22/tcp on 203.0.113.10 no longer reachable from the internet`. */
  expected: string;
  /** What `/vigil undo` does: `ec2:AuthorizeSecurityGroupIngress with the same permission`. */
  undo: string;
}

/** What one execution (or undo) did: the audit's facts, and what an undo needs to restore exactly. */
export interface ExecutionRecord {
  /** `changed`: this call changed it; `already`: it was already so (a retry after a lost answer, a person's change); `dry-run`: nothing was changed. */
  outcome: 'changed' | 'already' | 'dry-run';
  /** The call as made (or as it would have been, in dry-run). */
  apiCall: string;
  /** The provider's request ids, for its own audit log (CloudTrail, Cloud Audit Logs). */
  requestIds: string[];
  /**
   * What was there before, for an exact undo (provider-specific JSON: a bucket's previous Block Public
   * Access configuration or `null`, a firewall's previous `disabled` and `sourceRanges`). Absent in dry-run.
   */
  before?: unknown;
  /** After an undo of a revoke: the rule id the permission came back under. */
  restoredRuleId?: string;
  at: string;
}

/** Where a plan stands. */
export type PlanState = 'proposed' | 'requested' | 'executing' | 'executed' | 'failed' | 'cancelled' | 'expired' | 'undoing' | 'undone';

export interface PlanStatus {
  plan: RemediationPlan;
  state: PlanState;
  proposedAt: string;
  /** Who asked, when; the approval is due by `expiresAt`. */
  requestedBy?: string;
  /** The asker's `authorId`, when the tracker gives one: a second person is told apart by it, not by a login they may rename. */
  requestedById?: string;
  requestedAt?: string;
  expiresAt?: string;
  approvedBy?: string;
  approvedAt?: string;
  execution?: ExecutionRecord;
  undoneBy?: string;
  undo?: ExecutionRecord;
  /** Why it failed or was cancelled, in words. */
  reason?: string;
}

/** A risk a person accepted: the watch is silent and the issue closed until the day after `until`. */
export interface AcceptedRisk {
  reason: string;
  /** The last day the acceptance holds (YYYY-MM-DD), as `rescan.allow` entries. */
  until: string;
  by: string;
  at: string;
}

/** What an investigation keeps of its response (in its progress, carried across continue-as-new). */
export interface ResponseProgress {
  plans: PlanStatus[];
  /** The number the next plan gets (`p<n>`). */
  nextPlan: number;
  accepted?: AcceptedRisk;
  /**
   * The comments whose commands were taken (the latest ones): Temporal recognises an update id again
   * only within one run, so a delivery given again after a continue-as-new is refused by this instead.
   */
  commands?: string[];
}

/** A command from an issue comment. */
export type ResponseCommand =
  | { verb: 'remediate' | 'approve' | 'cancel' | 'undo'; plan: string }
  | { verb: 'accept'; reason: string; until: string };

export type ResponseVerb = ResponseCommand['verb'];

/** A command as intake hands it to the investigation: who wrote it, and what the configuration lets them do. */
export interface ResponseRequest {
  command: ResponseCommand;
  /** The comment's author: a GitHub login, or a local tracker person. */
  author: string;
  /**
   * What identifies the author for good, when the tracker has it (GitHub's numeric user id: a login
   * can be renamed between asking and approving); the self-approval check compares it before names.
   */
  authorId?: string;
  /** Resolved by intake from `response.askers` / `response.approvers` (a GitHub team's members included). */
  roles: { ask: boolean; approve: boolean };
  /** `response.selfApproval`. */
  selfApproval: boolean;
  /** The tracker's id of the comment: the update's id, so a redelivered webhook changes nothing twice. */
  commentId: string;
  /** Where the comment is, for the audit (GitHub's html_url, or the local tracker's issue page). */
  commentUrl?: string;
}

/** What the investigation answers to an accepted command (a refusal is the validator's error message). */
export interface ResponseAnswer {
  said: string;
}

/**
 * A command from the issue. The validator refuses (with the reason, said on the issue by intake)
 * anything the plan's state, the author's roles or the dates do not allow; an accepted one is
 * acted on by the investigation, and each step it takes is a comment and an audit record.
 */
export const responseCommand = defineUpdate<ResponseAnswer, [ResponseRequest]>('responseCommand');

/** One audited step, as the comment says it and the archive keeps it. */
export type AuditStep = 'proposed' | 'requested' | 'approved' | 'executed' | 'failed' | 'rechecked' | 'cancelled' | 'expired' | 'undone' | 'accepted' | 'acceptance-expired';

export interface AuditEntry {
  workflowId: string;
  issue: number;
  step: AuditStep;
  /** The plan it is about (none for an accepted risk). */
  plan?: string;
  /** The person who asked, approved, cancelled, undid or accepted; `vigil` for what Vigil did itself. */
  actor: string;
  at: string;
  dryRun?: boolean;
  apiCall?: string;
  requestIds?: string[];
  /** The result in words (`revoked`, `already revoked`, `22/tcp closed on 127.0.0.5`, `AccessDenied: …`). */
  result?: string;
  commentUrl?: string;
}
