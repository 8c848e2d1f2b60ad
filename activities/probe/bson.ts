// Just enough BSON for MongoDB's handshake commands: encode flat command documents, decode the
// top-level fields of a reply (nested documents and arrays are decoded too; rare types are skipped).
// No BSON library is among the dependencies, and these few types are all the probe exchanges.

export type BsonValue = number | string | boolean | null | BsonValue[] | { [key: string]: BsonValue };

const cstring = (text: string) => Buffer.from(`${text}\0`, 'utf8');

/** A document of numbers (as doubles or int32), strings and booleans. */
export function encodeDocument(document: Record<string, number | string | boolean>): Buffer {
  const elements = Object.entries(document).map(([name, value]) => {
    if (typeof value === 'string') {
      const text = cstring(value);
      const length = Buffer.alloc(4);
      length.writeInt32LE(text.length);
      return Buffer.concat([Buffer.from([0x02]), cstring(name), length, text]);
    }
    if (typeof value === 'boolean') return Buffer.concat([Buffer.from([0x08]), cstring(name), Buffer.from([value ? 1 : 0])]);
    if (Number.isInteger(value)) {
      const int = Buffer.alloc(4);
      int.writeInt32LE(value);
      return Buffer.concat([Buffer.from([0x10]), cstring(name), int]);
    }
    const double = Buffer.alloc(8);
    double.writeDoubleLE(value);
    return Buffer.concat([Buffer.from([0x01]), cstring(name), double]);
  });
  const body = Buffer.concat([...elements, Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32LE(body.length + 4);
  return Buffer.concat([length, body]);
}

/** Size in bytes of fixed-size element types, by type byte. */
const fixedSizes: Record<number, number> = { 0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0a: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16, 0x7f: 0, 0xff: 0 };

export function decodeDocument(data: Buffer, start = 0): { [key: string]: BsonValue } {
  const end = start + data.readInt32LE(start) - 1;
  const out: { [key: string]: BsonValue } = {};
  let at = start + 4;
  while (at < end) {
    const type = data[at]!;
    const nameEnd = data.indexOf(0, at + 1);
    const name = data.toString('utf8', at + 1, nameEnd);
    at = nameEnd + 1;
    switch (type) {
      case 0x01:
        out[name] = data.readDoubleLE(at);
        break;
      case 0x02:
        out[name] = data.toString('utf8', at + 4, at + 4 + data.readInt32LE(at) - 1);
        break;
      case 0x03:
      case 0x04: {
        const nested = decodeDocument(data, at);
        out[name] = type === 0x04 ? Object.values(nested) : nested;
        break;
      }
      case 0x08:
        out[name] = data[at] === 1;
        break;
      case 0x0a:
        out[name] = null;
        break;
      case 0x10:
        out[name] = data.readInt32LE(at);
        break;
      case 0x12:
        out[name] = Number(data.readBigInt64LE(at));
        break;
    }
    if (type === 0x02 || type === 0x03 || type === 0x04) at += type === 0x02 ? 4 + data.readInt32LE(at) : data.readInt32LE(at);
    else if (type === 0x05) at += 4 + 1 + data.readInt32LE(at);
    else if (fixedSizes[type] !== undefined) at += fixedSizes[type];
    else throw new Error(`BSON type 0x${type.toString(16)} not supported`);
  }
  return out;
}
