// The one error module: every failure skiff reports is a CliError with a stable code and an exit code.
// Exit codes follow Podman: 125 skiff's own failure, 126 cannot invoke, 127 not found.

export type ErrorCode =
  | 'EUSAGE' // bad flags or arguments
  | 'EREFERENCE' // malformed image reference
  | 'ENOIMAGE' // no such image locally
  | 'ENOCONTAINER' // no such container
  | 'ENONETWORK' // no such network
  | 'ENOVOLUME' // no such volume
  | 'ENOSECRET' // no such secret
  | 'EREGISTRY' // the registry answered with an error
  | 'EUNAUTHORIZED' // 401/403 from a registry
  | 'EUNREACHABLE' // the registry could not be reached
  | 'EDIGEST' // content did not match its digest
  | 'EUNPACK' // a layer could not be unpacked safely
  | 'EUSERNS' // user namespace set-up failed
  | 'EHELPER' // an external helper binary failed
  | 'ELOCK' // a lock could not be taken
  | 'ECONFIG' // a configuration file is malformed
  | 'ESTATE' // the object is in the wrong state for the operation
  | 'ELIMIT' // a limit of the host was reached (open files, processes, namespaces)
  | 'EINTERNAL';

export class CliError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? 125;
  }
}

// A bug in skiff, not a problem with the user's input or host: printed with a request to report it.
export class InternalError extends CliError {
  constructor(message: string, cause?: unknown) {
    super('EINTERNAL', message, { cause });
    this.name = 'InternalError';
  }
}

// Returns the message of any thrown value, for wrapping causes into one line.
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
