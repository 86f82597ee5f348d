/** A backup cannot be written, or a file offered to restore is not a sound Enclave store: one line for the operator. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}
