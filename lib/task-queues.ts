// Task queues beside the main one. Derived from it rather than configured, so the workflow (which
// cannot read configuration) and every worker agree, and each deployment or test keeps its own.

/** Screenshots: a browser worker with low concurrency polls it. */
export const browserTaskQueue = (mainTaskQueue: string) => `${mainTaskQueue}-browser`;
