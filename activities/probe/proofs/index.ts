// The resource proofs by kind, and the run of every proof of the public resources in a context.
// Adding one: a module exporting a `ProofCheck` (./types) and its entry below.
import type { ResourceContext } from '../../../lib/context';
import type { Finding } from '../../../lib/finding';
import { mapConcurrent } from '../../../lib/concurrency';
import { truncate } from '../../../lib/markdown';
import type { CheckContext } from '../types';
import { bucketProof } from './bucket';
import type { ProofCheck, ProofKind } from './types';
import { urlProof } from './url';

const proofChecks: { [Kind in ProofKind]: ProofCheck<Kind> } = { bucket: bucketProof, url: urlProof };

/** Proofs run at once: each is a request or two to one provider endpoint or URL. */
const PROOF_CONCURRENCY = 8;

/** Every proof of every public resource the context holds, except endpoints (swept with the TCP targets), with what it asks. */
export function plannedProofs(context: Pick<ResourceContext, 'resources'>) {
  return (context.resources ?? []).flatMap((resource) =>
    resource.public
      ? resource.proofs.flatMap((proof) => (proof.kind === 'endpoint' ? [] : [{ resource, proof, target: proof.kind === 'url' ? proof.url : `${proof.baseUrl}/${proof.bucket}` }]))
      : [],
  );
}

/** The findings of every planned proof; one that fails is `unknown`, saying why. */
export async function runProofs(context: Pick<ResourceContext, 'resources'>, check: CheckContext): Promise<Finding[]> {
  const found = await mapConcurrent(plannedProofs(context), PROOF_CONCURRENCY, async ({ resource, proof, target }) => {
    const proofCheck = proofChecks[proof.kind] as ProofCheck;
    try {
      return await proofCheck.run(proof as never, resource, check);
    } catch (err) {
      check.signal.throwIfAborted();
      return [{ key: `${proof.kind}/${target}`, check: proof.kind, target, status: 'unknown', fields: { error: truncate((err as Error).message ?? String(err), 200) } }];
    }
  });
  return found.flat();
}
