// The unprivileged account system tests run skiff as, when the suite runs as root (as CI does).
export const TEST_USER = 'skifftest';
