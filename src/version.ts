// skiff's version: a leaf module, so `--version` loads nothing else.
export const VERSION = '0.1.0';
