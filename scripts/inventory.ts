// `vigil inventory accounts`: every account and project the inventories cover (hand-listed and
// discovered), each with whether Vigil can read it. It discovers now, with this configuration and
// the credentials a worker would use, so it answers the same as the next discovery, with or without
// Temporal.
import { createInventoryProviders } from '../activities/context';
import type { CoverageGap, CoveredAccount } from '../activities/context/types';
import type { Config } from '../lib/config';
import { plainTitle } from '../lib/markdown';

// Cells are one line, bounded (names and reasons come from cloud APIs).
function table(accounts: readonly CoveredAccount[]): string {
  const rows = [['PROVIDER', 'ID', 'NAME', 'STATE', 'LAST READ'], ...accounts.map((a) => [a.provider, a.id, plainTitle(a.name ?? '-', 40), plainTitle(a.state, 100), a.lastRead ?? 'never'])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const gapLine = ({ provider, account, region, reason }: CoverageGap) => `  ${provider} ${account}${region ? ` ${region}` : ''}: ${plainTitle(reason, 300)}`;

/** Why a provider's discovery failed as a whole, naming the setting to check when the provider can tell. */
async function failureReason(provider: string, error: unknown, inventory: Config['inventory']): Promise<string> {
  const settings = (inventory[provider] ?? {}) as { endpoint?: string; organization?: { endpoint?: string } };
  if (provider === 'gcp') return (await import('../activities/context/gcp/hierarchy')).noAnswerReason(error, settings.endpoint);
  if (provider === 'aws') {
    const url = settings.organization?.endpoint ?? settings.endpoint;
    return (await import('../activities/context/aws/errors')).noAnswerReason(error, { service: 'Organizations', setting: 'inventory.aws.organization.endpoint', ...(url ? { url } : {}) });
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * google-gax rejects the credential lookup of each client method a second time, where nothing can
 * catch it (googleapis/nodejs-speech#285): without credentials, Node would end this process with a
 * stack trace after the failure was already said. Only a failure already reported is let pass.
 */
function passRepeatedRejections(): (reported: readonly unknown[]) => void {
  const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
  let messages: Set<string> | undefined;
  // Held until the discoveries are settled: one may fail while another is still reading.
  const held: unknown[] = [];
  process.on('unhandledRejection', (reason) => {
    if (!messages) held.push(reason);
    else if (!messages.has(messageOf(reason))) throw reason;
  });
  return (reported) => {
    messages = new Set(reported.map(messageOf));
    for (const reason of held) if (!messages.has(messageOf(reason))) throw reason;
  };
}

/**
 * Prints the accounts of every provider that could be read. Exit status 0 when everything was read
 * (a gap is said on stderr but is no failure); 1 when a provider, or a place of it, could not be read
 * at all (no answer, not a refusal: an endpoint down, no credentials), said on stderr with the setting
 * to check. A configuration error (exit 2) is thrown before any of this.
 */
export async function listAccounts(config: Config, { json = false }: { json?: boolean }): Promise<number> {
  const providers = (await createInventoryProviders(config.inventory)).filter((provider) => provider.discover);
  if (providers.length === 0) {
    console.error('no inventory that can list its accounts is configured (inventory.aws, inventory.gcp): see docs/inventories.md');
  }
  const reported = passRepeatedRejections();
  const settled = await Promise.allSettled(providers.map((provider) => provider.discover!()));
  const accounts: CoveredAccount[] = [];
  const gaps: CoverageGap[] = [];
  const unread: string[] = [];
  reported(settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : [])));
  for (const [i, result] of settled.entries()) {
    const provider = providers[i]!.name;
    if (result.status === 'rejected') {
      unread.push(`${provider}: ${plainTitle(await failureReason(provider, result.reason, config.inventory), 300)}`);
      continue;
    }
    accounts.push(...result.value.accounts);
    gaps.push(...result.value.gaps);
    const unsettled = new Set(result.value.unsettled);
    for (const row of result.value.accounts) if (unsettled.has(row.id)) unread.push(`${provider} ${row.id}: ${plainTitle(row.reason ?? row.state, 300)}`);
  }
  console.log(json ? JSON.stringify({ accounts }, null, 2) : table(accounts));
  if (gaps.length > 0) console.error(`${gaps.length} coverage gap${gaps.length === 1 ? '' : 's'}: Vigil cannot read\n${gaps.map(gapLine).join('\n')}`);
  if (unread.length > 0) console.error(`not read (no answer, which is no refusal: check the setting named):\n${unread.map((line) => `  ${line}`).join('\n')}`);
  return unread.length > 0 ? 1 : 0;
}
