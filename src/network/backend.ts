// Which userspace network a container gets when --network names none.
import type { NetworkBackendSetting } from '../config/config.js';
import { findHelperBinary } from '../util/exec.js';

// `network.backend` from skiff.conf; "auto": pasta where installed, else slirp4netns, else none.
export const defaultNetwork = (setting: NetworkBackendSetting): string => {
  if (setting !== 'auto') return setting;
  return findHelperBinary('pasta') ? 'pasta' : findHelperBinary('slirp4netns') ? 'slirp4netns' : 'none';
};
