// The rule a container's, network's or volume's name must follow (each becomes a file name in the store).
import { CliError } from '../errors.js';

// Podman's rule for container (and network) names.
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

// Docker and Podman set no length, but a name becomes a file name (containers/names/NAME,
// networks/NAME.json, their ".tmp-NAME…-PID-RANDOM" temp siblings; a systemd unit
// container-NAME.service later), and those stop at 255 bytes: 200 leaves room for what skiff adds.
export const NAME_MAX = 200;

// Refuses a name that breaks the rule, in one line that says why.
export const checkName = (kind: 'container' | 'network' | 'volume', name: string): void => {
  if (name.length > NAME_MAX)
    throw new CliError(
      'EUSAGE',
      `invalid ${kind} name ${JSON.stringify(`${name.slice(0, 20)}…`)}: it is ${name.length} characters long, at most ${NAME_MAX} are allowed`,
    );
  if (!NAME_RE.test(name))
    throw new CliError('EUSAGE', `invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, _ . - (starting with a letter or digit)`);
};

// Whether `name` could be a container's or network's name (lookups of anything else find nothing).
export const isValidName = (name: string): boolean => name.length <= NAME_MAX && NAME_RE.test(name);
