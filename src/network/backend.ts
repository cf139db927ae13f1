// Which userspace network a container gets when --network names none.
import type { NetworkBackendSetting } from '../config/config.js';
import { findHelperBinary } from '../util/exec.js';

// `network.backend` from skiff.conf; "auto": the default bridge network where its tools are
// installed (one slirp4netns for all of a user's containers, in skiff's rootless network
// namespace, with nftables and iproute2: a few hundred KB a container, where pasta of its own
// holds ~30 MB), else pasta, else slirp4netns, else none.
export const defaultNetwork = (setting: NetworkBackendSetting): string => {
  if (setting !== 'auto') return setting;
  if (['slirp4netns', 'nft', 'ip', 'nsenter', 'unshare'].every((tool) => findHelperBinary(tool))) return 'bridge';
  return findHelperBinary('pasta') ? 'pasta' : findHelperBinary('slirp4netns') ? 'slirp4netns' : 'none';
};
