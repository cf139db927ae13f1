// The default seccomp profile: allow everything except the system calls a container has no business
// making (kernel modules, kexec, keyrings, clock and swap changes, bpf, perf, ptrace of the host's
// view, and the namespace and mount calls that CAP_SYS_ADMIN-less processes should not reach).
// Podman's profile is an allowlist of ~450 names; this denylist blocks the same dangerous set
// while staying short enough to read. The runtime applies it; `--security-opt seccomp=unconfined`
// turns it off and `seccomp=FILE` replaces it.

const DENIED = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'get_kernel_syms',
  'init_module',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'move_pages',
  'nfsservctl',
  'open_by_handle_at',
  'perf_event_open',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'query_module',
  'quotactl',
  'reboot',
  'request_key',
  'setns',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'sysfs',
  '_sysctl',
  'umount',
  'umount2',
  'mount',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vm86',
  'vm86old',
];

// Calls that stay allowed with --cap-add SYS_ADMIN (or --privileged), as in Podman's profile.
const SYS_ADMIN_CALLS = new Set(['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'quotactl']);

export interface SeccompProfile {
  defaultAction: string;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number }[];
}

const ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

export const defaultSeccomp = (capabilities: string[]): SeccompProfile => {
  const sysAdmin = capabilities.includes('CAP_SYS_ADMIN');
  const names = DENIED.filter((n) => !(sysAdmin && SYS_ADMIN_CALLS.has(n)));
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHES[process.arch] ?? [],
    syscalls: [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
};
