// Every workflow the main worker runs.
export { investigateAlert } from './investigate-alert';
export { sweepArchive } from './sweep-archive';
export { refreshFeeds } from './refresh-feeds';
export { rescanInventory } from './rescan-inventory';
export { discoverInventory } from './discover-inventory';
