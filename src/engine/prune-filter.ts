// The --filter of Podman's prune commands (container, network, volume and system prune): until=TIME
// (made before it), label=KEY[=VALUE] and label!=KEY[=VALUE]; every filter must hold.
import { CliError } from '../errors.js';
import { parseTime } from '../util/time.js';

// What a prune filter looks at: when the object was made, and its labels.
export interface Prunable {
  created: string;
  labels: Record<string, string>;
}

const hasLabel = (labels: Record<string, string>, spec: string): boolean => {
  const eq = spec.indexOf('=');
  return eq < 0 ? spec in labels : labels[spec.slice(0, eq)] === spec.slice(eq + 1);
};

// `command` names the prune in the error for a filter it does not take ("container prune").
export const pruneMatcher = (filters: string[], command: string, now = Date.now()): ((item: Prunable) => boolean) => {
  const tests = filters.map((filter): ((item: Prunable) => boolean) => {
    const [, key, not, value] = /^([a-z]+)(!?)=(.*)$/.exec(filter) ?? [];
    if (key === 'until' && !not) {
      const before = parseTime(value, 'until= filter', now);
      return (item) => Date.parse(item.created) < before;
    }
    if (key === 'label') return (item) => hasLabel(item.labels, value) !== Boolean(not);
    throw new CliError('EUSAGE', `invalid filter "${filter}": ${command} takes until=, label= and label!=`);
  });
  return (item) => tests.every((t) => t(item));
};
