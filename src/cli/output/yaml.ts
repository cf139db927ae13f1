// A small YAML writer for `info`, which Podman prints as YAML by default.
const scalar = (value: unknown): string => {
  if (value === null || value === undefined) return '""';
  if (typeof value === 'string') return value === '' || /[:#\-?{}[\],&*!|>'"%@`]|^\s|\s$/.test(value) ? JSON.stringify(value) : value;
  return String(value);
};

export const toYaml = (value: unknown, indent = 0): string => {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (item && typeof item === 'object') {
          const body = toYaml(item, indent + 2);
          return `${pad}- ${body.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}\n`;
      })
      .join('');
  }
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => {
        if (v && typeof v === 'object' && !(Array.isArray(v) && v.length === 0)) return `${pad}${k}:\n${toYaml(v, indent + 2)}`;
        return `${pad}${k}: ${Array.isArray(v) ? '[]' : scalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
};
