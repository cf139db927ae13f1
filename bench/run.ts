// Runs every benchmark (or those named: `npm run bench -- pull startup`) and prints figures.
import { benchPull } from './pull.js';
import { benchStartup } from './startup.js';

const all: Record<string, () => Promise<void>> = { startup: benchStartup, pull: benchPull };
const chosen = process.argv.slice(2).filter((a) => a in all);
for (const name of chosen.length ? chosen : Object.keys(all)) await all[name]();
