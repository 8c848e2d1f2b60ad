// Listing workflows through Temporal's visibility, for correlation and the routing of exposures.
// A server that cannot list (the time-skipping test server) lists nothing: the investigations then
// neither link nor merge, and everything else goes on.
import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';

const unimplemented = (err: unknown) => {
  const cause = (err as { cause?: unknown })?.cause;
  return [err, cause].some((candidate) => isGrpcServiceError(candidate) && candidate.code === grpcStatus.UNIMPLEMENTED);
};

/** The first `limit` executions the query lists (one page of that size), or none where listing is unsupported. */
export async function listExecutions(client: Client, query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
  const listed: WorkflowExecutionInfo[] = [];
  try {
    for await (const execution of client.workflow.list({ query, pageSize: limit })) {
      listed.push(execution);
      if (listed.length >= limit) break;
    }
  } catch (err) {
    if (!unimplemented(err)) throw err;
  }
  return listed;
}
