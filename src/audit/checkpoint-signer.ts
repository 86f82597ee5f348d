/** What signs audit checkpoints: an HMAC (hex) under a secret kept outside SQLite (the retention key's audit subkey). */
export interface CheckpointSigner {
  sign(message: string): string;
}
