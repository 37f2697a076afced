// Reads a request body without ever holding more than `maxBytes` of it: a declared or streamed size
// over the limit is refused with 413 before the rest is read. The body stays bytes, exactly as sent,
// because a signature is over those bytes; `decodeJsonText` turns them into text afterwards.
import { HttpError } from "./http.ts";

export async function readBodyLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, "payload_too_large", `The body must be at most ${maxBytes} bytes.`);
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// `fatal`: invalid UTF-8 is an error, not silently replaced. A leading byte-order mark is dropped
// (TextDecoder's default): JSON.parse refuses it, and RFC 8259 lets a parser ignore it.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as JSON text, or null when it is not UTF-8. */
export function decodeJsonText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
