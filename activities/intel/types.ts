// The intel activities' types live with the domain types, so rendering can use them too.
export type { ActorReport, ActorTarget, AsnInfo, SourceResult, Verdict } from '../../lib/intel';
