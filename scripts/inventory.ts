// `vigil inventory accounts`: every account and project the inventories cover (hand-listed and
// discovered), each with whether Vigil can read it. It discovers now, with this configuration and
// the credentials a worker would use, so it answers the same as the next discovery, with or without
// Temporal.
import { createInventoryProviders } from '../activities/context';
import type { CoveredAccount, CoverageGap } from '../activities/context/types';
import type { Config } from '../lib/config';
import { plainTitle } from '../lib/markdown';

// Cells are one line, bounded (names and reasons come from cloud APIs).
function table(accounts: readonly CoveredAccount[]): string {
  const rows = [['PROVIDER', 'ID', 'NAME', 'STATE', 'LAST READ'], ...accounts.map((a) => [a.provider, a.id, plainTitle(a.name ?? '', 40), plainTitle(a.state, 100), a.lastRead ?? 'never'])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const gapLine = ({ provider, account, region, reason }: CoverageGap) => `  ${provider} ${account}${region ? ` ${region}` : ''}: ${plainTitle(reason, 300)}`;

/** Prints the accounts; a gap is said (on stderr) but is no failure. Exit status 0. */
export async function listAccounts(config: Config, { json = false }: { json?: boolean }): Promise<number> {
  const providers = (await createInventoryProviders(config.inventory)).filter((provider) => provider.discover);
  if (providers.length === 0) {
    console.error('no inventory that can list its accounts is configured (inventory.aws, inventory.gcp): see docs/inventories.md');
  }
  const reports = await Promise.all(providers.map((provider) => provider.discover!()));
  const accounts = reports.flatMap((report) => report.accounts);
  const gaps = reports.flatMap((report) => report.gaps);
  console.log(json ? JSON.stringify({ accounts }, null, 2) : table(accounts));
  if (gaps.length > 0) console.error(`${gaps.length} coverage gap${gaps.length === 1 ? '' : 's'}: Vigil cannot read\n${gaps.map(gapLine).join('\n')}`);
  return 0;
}
