/**
 * SentencePiece `tokenizer.model` reader: only the vocabulary (`ModelProto.pieces`), which is what a GGUF needs.
 * sentencepiece_model.proto: `repeated SentencePiece pieces = 1;` each `{string piece = 1; float score = 2;
 * Type type = 3 [default = NORMAL]}` with Type NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6.
 * Other top-level fields (trainer_spec, normalizer_spec, …) are skipped.
 */
import { readRegularFile } from '../fs/regular-file.ts';
import { basename } from 'node:path';
import { IntegrityError } from '../errors.ts';

export const SentencePieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  type: number;
}

class ProtoReader {
  pos = 0;
  readonly bytes: Uint8Array;
  readonly end: number;
  private readonly file: string;

  constructor(bytes: Uint8Array, file: string, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.file = file;
  }

  fail(what: string): IntegrityError {
    return new IntegrityError('SENTENCEPIECE_CORRUPT', `${basename(this.file)}: ${what} at byte ${this.pos}`, {
      hint: 'tokenizer.model is damaged; download it again.',
      details: { file: this.file },
    });
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw this.fail('truncated varint');
      const byte = this.bytes[this.pos++]!;
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw this.fail('varint too long');
    }
  }

  lengthDelimited(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw this.fail('field runs past its message');
    this.pos += length;
    return [start, start + length];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.lengthDelimited();
    else if (wireType === 5) this.pos += 4;
    else throw this.fail(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw this.fail('field runs past its message');
  }
}

export function parseSentencePieceModel(bytes: Uint8Array, file = 'tokenizer.model'): SentencePiece[] {
  const reader = new ProtoReader(bytes, file);
  const pieces: SentencePiece[] = [];
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // a piece may be U+FEFF itself
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field !== 1 || wireType !== 2) {
      reader.skip(wireType);
      continue;
    }
    const [start, end] = reader.lengthDelimited();
    const inner = new ProtoReader(bytes, file, start, end);
    const piece: SentencePiece = { piece: '', score: 0, type: SentencePieceType.NORMAL };
    while (inner.pos < inner.end) {
      const t = inner.varint();
      const f = Math.floor(t / 8);
      const w = t & 7;
      if (f === 1 && w === 2) {
        const [s, e] = inner.lengthDelimited();
        piece.piece = decoder.decode(bytes.subarray(s, e));
      } else if (f === 2 && w === 5) {
        if (inner.pos + 4 > inner.end) throw inner.fail('truncated score');
        piece.score = view.getFloat32(inner.pos, true);
        inner.pos += 4;
      } else if (f === 3 && w === 0) {
        piece.type = inner.varint();
      } else inner.skip(w);
    }
    pieces.push(piece);
  }
  return pieces;
}

export async function readSentencePieceModel(file: string): Promise<SentencePiece[]> {
  return parseSentencePieceModel(await readRegularFile(file), file);
}
