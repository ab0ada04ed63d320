/**
 * GPT-2 byte-level BPE token strings (as stored in Whisper vocabularies) ↔ raw bytes: the inverse of
 * OpenAI's `bytes_to_unicode`, which maps printable Latin-1 bytes to themselves and every other
 * byte b to U+0100 + (its index among the non-printable bytes).
 */
import { AppError, ErrorCode } from '../../../shared/errors.contract';

function buildByteToChar(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : 256 + next++));
  return table;
}

/** byte → the character GPT-2 uses for it */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

/** The raw bytes of a byte-level token; throws on a character outside the 256-character alphabet. */
export function tokenToBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  let length = 0;
  for (const char of token) {
    const byte = CHAR_TO_BYTE.get(char);
    if (byte === undefined) {
      throw new AppError(ErrorCode.ModelInvalid, `vocabulary token ${JSON.stringify(token)} is not GPT-2 byte-level`, false);
    }
    out[length++] = byte;
  }
  return out.subarray(0, length);
}
