/** The data dir cannot be used (missing and not creatable, not writable, held by another server): one line for the operator. */
export class DataDirError extends Error {
  readonly dataDir: string;

  constructor(message: string, dataDir: string) {
    super(message);
    this.name = "DataDirError";
    this.dataDir = dataDir;
  }
}
