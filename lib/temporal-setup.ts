// Makes a Temporal server ready for Vigil: the namespace exists and Vigil's search attributes are
// registered. Idempotent, so dev, tests and worker start all call it.
import { status as grpcStatus } from '@grpc/grpc-js';
import { type Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { vigilSearchAttributeKeys } from './search-attributes';

// @temporalio/proto is CommonJS: its namespace comes through the default import under ESM.
const { IndexedValueType } = proto.temporal.api.enums.v1;

export async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === grpcStatus.NOT_FOUND)) throw err;
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('7 days'),
    });
  }
}

/** Registered custom attributes, or undefined on a server that cannot list them (the time-skipping test server). */
async function registeredAttributes(connection: Connection, namespace: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === grpcStatus.UNIMPLEMENTED) return undefined;
    throw err;
  }
}

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const registered = await registeredAttributes(connection, namespace);
  const missing = vigilSearchAttributeKeys.filter(({ name }) => !registered?.[name]);
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(
    missing.map(({ name, type }) => [name, type === SearchAttributeType.KEYWORD_LIST ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Two processes registering at once: the loser finds them already there.
    if (!(isGrpcServiceError(err) && err.code === grpcStatus.ALREADY_EXISTS)) throw err;
  }
}

export async function prepareTemporal(connection: Connection, namespace: string): Promise<void> {
  await ensureNamespace(connection, namespace);
  await ensureSearchAttributes(connection, namespace);
}
