// The unprivileged accounts system tests run skiff as, when the suite runs as root (as CI does).
export const TEST_USER = 'skifftest';
// An account with no /etc/subuid or /etc/subgid range.
export const NO_SUBID_USER = 'skiffnosub';
