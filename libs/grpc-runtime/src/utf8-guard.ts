import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/**
 * Proto3 strings are UTF-8. The generated decoders replace invalid bytes with U+FFFD, so a
 * name sent as `ED A0 80` would be stored as "�" without a word. The server decodes each
 * request with a strict decoder instead (see `guardDecoding`), and when it refuses, this
 * module finds which field held the bytes, so the answer names it like any other violation.
 */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A reader over a request whose strings must be valid UTF-8 (a TypeError otherwise). */
export function strictReader(bytes: Uint8Array): BinaryReader {
  return new BinaryReader(bytes, (b) => strict.decode(b));
}

export function isInvalidUtf8Error(err: unknown): boolean {
  return err instanceof TypeError && (err as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

/** Request message types by method path, read from the descriptor set once. */
export class RequestTypes {
  #registry: FileRegistry | undefined;

  constructor(private readonly descriptorSetBase64: string) {}

  of(methodPath: string): DescMessage | undefined {
    const [, service, method] = /^\/([^/]+)\/([^/]+)$/.exec(methodPath) ?? [];
    this.#registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(this.descriptorSetBase64, 'base64')));
    return this.#registry.getService(service ?? '')?.methods.find((m) => m.name === method)?.input;
  }
}

/** The path (`spec.name`, `emails.subject`) of the first string in `bytes` that is not valid UTF-8, or null. */
export function invalidUtf8Path(message: DescMessage, bytes: Uint8Array, depth = 0): string | null {
  if (depth > 100) return null;
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const field = message.fields.find((f) => f.number === no);
    if (!field || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, no);
      continue;
    }
    const inner = invalidIn(field, reader.bytes(), depth);
    if (inner !== null) return inner === '' ? field.name : `${field.name}.${inner}`;
  }
  return null;
}

/** '' when the field's own string is invalid, a sub-path inside it, or null when it is fine. */
function invalidIn(field: DescField, chunk: Uint8Array, depth: number): string | null {
  const valid = (b: Uint8Array) => {
    try {
      strict.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  switch (field.fieldKind) {
    case 'scalar':
      return field.scalar === ScalarType.STRING && !valid(chunk) ? '' : null;
    case 'message':
      return invalidUtf8Path(field.message, chunk, depth + 1);
    case 'list':
      if (field.listKind === 'message') return invalidUtf8Path(field.message, chunk, depth + 1);
      return field.listKind === 'scalar' && field.scalar === ScalarType.STRING && !valid(chunk) ? '' : null;
    case 'map': {
      // An entry: key (1) and value (2).
      const entry = new BinaryReader(chunk);
      while (entry.pos < entry.len) {
        const [n, wt] = entry.tag();
        if (wt !== WireType.LengthDelimited) {
          entry.skip(wt, n);
          continue;
        }
        const part = entry.bytes();
        if (n === 1 && field.mapKey === ScalarType.STRING && !valid(part)) return '';
        if (n === 2 && field.mapKind === 'scalar' && field.scalar === ScalarType.STRING && !valid(part)) return '';
        if (n === 2 && field.mapKind === 'message') {
          const inner = invalidUtf8Path(field.message, part, depth + 1);
          if (inner !== null) return inner;
        }
      }
      return null;
    }
    default:
      return null;
  }
}
