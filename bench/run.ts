// Runs every benchmark (or those named: `npm run bench -- pull startup containers`) and prints figures.
// `npm run bench -- ab` (BENCH_AB_OTHER=…/bin/skiff) compares this build with another.
import { benchAb } from './ab.js';
import { benchBuild } from './build.js';
import { benchCompose } from './compose.js';
import { benchContainers } from './containers.js';
import { benchNetwork } from './network.js';
import { benchPull } from './pull.js';
import { benchScale } from './scale.js';
import { benchStartup } from './startup.js';
import { benchUserns } from './userns.js';

const all: Record<string, () => Promise<void>> = {
  startup: benchStartup,
  pull: benchPull,
  containers: benchContainers,
  network: benchNetwork,
  userns: benchUserns,
  build: benchBuild,
  scale: benchScale,
  compose: benchCompose,
  ab: benchAb,
};
const chosen = process.argv.slice(2).filter((a) => a in all);
// `ab` compares two builds of skiff (BENCH_AB_OTHER): only when named.
for (const name of chosen.length ? chosen : Object.keys(all).filter((n) => n !== 'ab')) await all[name]();
