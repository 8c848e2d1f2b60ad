// The contract of a resource proof: how an outsider shows a bucket or a serverless entry point public
// without credentials. Proofs are listed in ./index.ts; endpoint proofs (databases, load balancers)
// are not here: they are TCP targets of the sweep and its service checks (../plan).
import type { PublicResource, ResourceProof } from '../../../lib/context';
import type { Finding } from '../../../lib/finding';
import type { CheckContext } from '../types';

export type ProofKind = Exclude<ResourceProof['kind'], 'endpoint'>;

export interface ProofCheck<Kind extends ProofKind = ProofKind> {
  readonly kind: Kind;
  /**
   * Findings about the resource as an outsider sees it: status `public` when something was reached
   * without credentials (it counts as the exposure answering, like an open port), otherwise a word
   * saying what refused it (`refused`, `not-found`…). Every connection goes through the probe scope
   * (resolveInScope, httpRequest); a host outside it is a finding saying so, never contacted.
   */
  run(proof: Extract<ResourceProof, { kind: Kind }>, resource: PublicResource, context: CheckContext): Promise<Finding[]>;
}
