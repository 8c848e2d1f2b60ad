// Temporal Cloud's billable actions, counted over recorded histories (test/histories): each expected
// figure is the events of that history read by the rule at the top of scripts/bench-actions.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { describe, expect, it } from 'vitest';
import { countBillableActions } from '../../scripts/bench-actions';

const recorded = (name: string) => historyFromJSON(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../histories', name), 'utf8'))).events ?? [];

describe('billable actions of a recorded history', () => {
  it('an actor alert started by signal-with-start: its signal is part of the start', () => {
    // 44 events: the start (1) and its signal (event 2, none more); the watch-policy local activity
    // (1 marker); 6 activities; 1 search-attribute upsert; the quiet timer.
    expect(countBillableActions(recorded('alert_guardduty_62c7f3a1b0d94e5f8a2b6c1d0e9f8a7b.json'))).toEqual({
      total: 10,
      parts: { start: 1, localActivities: 1, activity: 6, searchAttributes: 1, timer: 1 },
    });
  });

  it('a watched exposure: repeats and re-checks are signals, each wait a timer, and the run continued as new starts once more', () => {
    // First run, 124 events: 5 signals, the first delivered with the start; 15 activities, 3 upserts,
    // 4 timers (the cancelled ones were started all the same); the continue-as-new event itself is free.
    expect(countBillableActions(recorded('alert_generic_demo_security-group_sg-0demo22_ssh_first-run.json'))).toEqual({
      total: 28,
      parts: { start: 1, localActivities: 1, activity: 15, searchAttributes: 3, timer: 4, signal: 4 },
    });
    // The run it continued as: its start, its watch-policy local activity and its first timer.
    expect(countBillableActions(recorded('alert_generic_demo_security-group_sg-0demo22_ssh.json'))).toEqual({
      total: 3,
      parts: { start: 1, localActivities: 1, timer: 1 },
    });
  });

  it("patched()'s markers and TemporalChangeVersion upserts are free; markers of one workflow task count once; updates count", () => {
    // Recorded on the time-skipping test server, which writes signal-with-start's signal after the
    // first workflow task is scheduled (event 3): by the history alone a signal like any other.
    // Markers: two patches and the local activity in task 4 (1), a patch alone in task 40 (0).
    // Upserts: 16, of which 3 set only TemporalChangeVersion. Timers: 10 (8 fired, 1 cancelled, 1 pending).
    expect(countBillableActions(recorded('response_accepted-risk-expired.json'))).toEqual({
      total: 73,
      parts: { start: 1, signal: 1, localActivities: 1, activity: 46, searchAttributes: 13, timer: 10, update: 1 },
    });
  });

  it('a retried activity counts each retry; a start by a Schedule counts three', () => {
    const events = recorded('record-rescan.json');
    const started = events.find((event) => event.activityTaskStartedEventAttributes)!;
    started.activityTaskStartedEventAttributes!.attempt = 3;
    events[0]!.workflowExecutionStartedEventAttributes!.searchAttributes = { indexedFields: { TemporalScheduledById: { data: new Uint8Array() } } };
    expect(countBillableActions(events)).toEqual({ total: 7, parts: { scheduledStart: 3, activity: 2, activityRetry: 2 } });
  });
});
