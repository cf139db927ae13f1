// Runs every benchmark (or those named: `npm run bench -- pull startup containers`) and prints figures.
import { benchContainers } from './containers.js';
import { benchNetwork } from './network.js';
import { benchPull } from './pull.js';
import { benchStartup } from './startup.js';

const all: Record<string, () => Promise<void>> = { startup: benchStartup, pull: benchPull, containers: benchContainers, network: benchNetwork };
const chosen = process.argv.slice(2).filter((a) => a in all);
for (const name of chosen.length ? chosen : Object.keys(all)) await all[name]();
