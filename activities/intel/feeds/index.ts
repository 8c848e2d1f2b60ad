// The blocklist feeds Vigil knows, by name.
import type { FeedDefinition } from './definition';
import { feodoTracker } from './feodo-tracker';
import { fireholLevel1 } from './firehol-level1';
import { spamhausDropV4, spamhausDropV6 } from './spamhaus-drop';
import { torExits } from './tor-exits';

export type { FeedDefinition } from './definition';
export { FeedFormatError } from './definition';

export const feedDefinitions: readonly FeedDefinition[] = [torExits, spamhausDropV4, spamhausDropV6, fireholLevel1, feodoTracker];

export const feedsByName: ReadonlyMap<string, FeedDefinition> = new Map(feedDefinitions.map((feed) => [feed.name, feed]));
