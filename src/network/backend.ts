// Which userspace network a container gets when --network names none.
import type { NetworkBackendSetting } from '../config/config.js';
import { findHelperBinary } from '../util/exec.js';
import { pastaAddresses } from './pasta.js';
import { SLIRP_GATEWAY, SLIRP_GUEST } from './slirp.js';

// `network.backend` from skiff.conf; "auto": pasta where installed, else slirp4netns, else none.
export const defaultNetwork = (setting: NetworkBackendSetting): string => {
  if (setting !== 'auto') return setting;
  return findHelperBinary('pasta') ? 'pasta' : findHelperBinary('slirp4netns') ? 'slirp4netns' : 'none';
};

// A container's address and gateway on its userspace network ({} for the others).
export const userspaceAddresses = (network: string): { ip?: string; gateway?: string } => {
  if (network === 'slirp4netns') return { ip: SLIRP_GUEST, gateway: SLIRP_GATEWAY };
  if (network === 'pasta') {
    const found = pastaAddresses();
    return { ip: found?.address, gateway: found?.gateway };
  }
  return {};
};
