import { readFileSync } from 'node:fs';
import { ConfigError } from '@postbote/errors';

/** A PEM file a variable names (a certificate, key or CA bundle), read at boot; errors name the variable. */
export function readPemFile(variable: string, path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!data.toString('latin1').includes('-----BEGIN ')) throw new ConfigError(variable, `${path} holds no PEM data`);
  return data;
}
