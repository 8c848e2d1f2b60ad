// Every item of every page of an AWS SDK paginator, in order: the one way the AWS readers gather a
// paginated listing.
export async function collectPages<Page, Item>(pages: AsyncIterable<Page>, items: (page: Page) => Item[] | undefined): Promise<Item[]> {
  const all: Item[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}
