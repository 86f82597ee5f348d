import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/** The retention key is missing or malformed; the message never contains key material. */
export class RetentionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RetentionKeyError";
  }
}

export interface RetentionKeySource {
  /** The key itself, base64 or hex (normally from ENCLAVE_RETENTION_PAYLOAD_KEY). */
  payload_key: string;
  /** A file holding the key, base64 or hex. */
  payload_key_file: string;
}

/**
 * The 32-byte secret behind payload encryption and audit checkpoint signatures. It lives in a
 * file or the environment, never in SQLite; from it two independent subkeys are derived (HKDF),
 * one per purpose, so a payload key is never also a MAC key.
 */
export interface RetentionKey {
  /** Short, non-secret id of the key, stored beside each ciphertext to spot a key change. */
  readonly fingerprint: string;
  encrypt(plaintext: Uint8Array, associatedData: string): { nonce: Buffer; ciphertext: Buffer };
  /** Throws when the ciphertext, nonce or associated data were altered, or the key differs. */
  decrypt(nonce: Uint8Array, ciphertext: Uint8Array, associatedData: string): Buffer;
  /** HMAC-SHA256 (hex) for audit checkpoints. */
  sign(message: string): string;
}

const TAG_BYTES = 16;

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (bytes.length !== 32) throw new RetentionKeyError(`${where} must hold 32 random bytes as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`); got ${bytes.length} bytes`);
  return bytes;
}

/** Loads the key from `payload_key` or `payload_key_file`; null when neither is set. */
export function loadRetentionKey(source: RetentionKeySource): RetentionKey | null {
  if (source.payload_key !== "" && source.payload_key_file !== "")
    throw new RetentionKeyError("set [retention] payload_key or payload_key_file, not both");
  if (source.payload_key !== "") return createRetentionKey(decodeKey(source.payload_key, "[retention] payload_key"));
  if (source.payload_key_file === "") return null;
  let text: string;
  try {
    text = readFileSync(source.payload_key_file, "utf8");
  } catch (error) {
    throw new RetentionKeyError(`cannot read [retention] payload_key_file ${source.payload_key_file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  return createRetentionKey(decodeKey(text, `[retention] payload_key_file ${source.payload_key_file}`));
}

export function createRetentionKey(master: Uint8Array): RetentionKey {
  if (master.length !== 32) throw new RetentionKeyError(`a retention key has 32 bytes; got ${master.length}`);
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32));
  const payloadKey = derive("enclave payload encryption v1");
  const macKey = derive("enclave audit checkpoint v1");
  const fingerprint = createHash("sha256").update(derive("enclave key fingerprint v1")).digest("hex").slice(0, 16);
  return {
    fingerprint,
    encrypt(plaintext, associatedData) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", payloadKey, nonce);
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { nonce, ciphertext };
    },
    decrypt(nonce, ciphertext, associatedData) {
      if (ciphertext.length < TAG_BYTES) throw new RetentionKeyError("ciphertext is too short");
      const decipher = createDecipheriv("aes-256-gcm", payloadKey, nonce);
      decipher.setAAD(Buffer.from(associatedData, "utf8"));
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
      return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]);
    },
    sign: (message) => createHmac("sha256", macKey).update(message).digest("hex"),
  };
}
