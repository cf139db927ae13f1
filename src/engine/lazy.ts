// Everything the engine loads on demand, behind one module: the bundle then has one lazy chunk
// (registry client, unpacking, archives, namespace set-up, host probes) that commands such as
// `images` or `inspect` never load, instead of many small chunks that each cost a module load.
export { pullImage } from '../image/pull.js';
export { pushImage } from '../image/push.js';
export { fetchListEntries } from '../image/manifest-list-remote.js';
export { pushManifestList } from '../image/manifest-list-push.js';
export { loadImages, saveImages } from '../image/archive.js';
export { importLayout } from '../image/layout-read.js';
export { inspectRemoteManifest, listTags, remoteManifestDigest, searchCatalog } from '../image/remote.js';
export { withRegistryClient } from '../image/registry/session.js';
export { lookupCredentials, parseCredsFlag, removeAllCredentials, removeCredentials, storeCredentials } from '../image/registry/auth.js';
export { checkHost } from '../rootless/host-check.js';
export { joinUserNamespace, liveMonitors, stopPause } from '../rootless/userns.js';
export { lookasideFor, writeSignature } from '../image/signatures.js';
