import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { Command } from 'commander';
import { SERVICE_IDENTITIES } from '@postbote/auth';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '@postbote/crypto';
import { CliUsageError } from './cli-support';

const DEFAULT_FOR = [...SERVICE_IDENTITIES, 'cli'];

/**
 * `postbote certs create`: a private CA and one certificate per service (and one for the
 * CLI) for mutual TLS between Postbote's processes — for compose, tests, or a first
 * deployment. The CA is made once and reused; running it again renews the service
 * certificates (rotation: docs/security.md).
 */
export function certsCommand(): Command {
  const cmd = new Command('certs').description('TLS certificates for the services (a private CA)');
  cmd
    .command('create')
    .description('create a private CA (once) and a certificate + key per service in a folder')
    .requiredOption('--out <dir>', 'folder for ca.crt, ca.key and <name>.crt/<name>.key')
    .option('--for <names>', 'comma-separated certificate names (service names are identities)', DEFAULT_FOR.join(','))
    .option('--san <names>', 'extra host names / IPs every certificate is valid for, comma-separated', '')
    .option('--days <n>', 'validity of the service certificates in days', '397')
    .action((o: { out: string; for: string; san: string; days: string }) => {
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new CliUsageError('--days must be 1 to 3650');
      const names = o.for.split(',').map((s) => s.trim()).filter(Boolean);
      if (names.some((n) => !/^[a-z0-9][a-z0-9.-]{0,62}$/.test(n))) throw new CliUsageError('--for takes names of letters, digits, dots and dashes');
      const extra = o.san.split(',').map((s) => s.trim()).filter(Boolean);
      mkdirSync(o.out, { recursive: true, mode: 0o700 });
      const { ca, created } = loadOrCreateCa(o.out);
      const lines = [created ? `created the CA ${join(o.out, 'ca.crt')} (keep ca.key offline once the certificates exist)` : `reused the CA in ${o.out}`];
      for (const n of names) {
        const leaf = issueCertificate(ca, { commonName: n, names: [...new Set([n, 'localhost', '127.0.0.1', '::1', ...extra])], days });
        write(join(o.out, `${n}.crt`), leaf.certPem, 0o644);
        write(join(o.out, `${n}.key`), leaf.keyPem, 0o600);
        lines.push(`${n}: ${join(o.out, `${n}.crt`)}, ${join(o.out, `${n}.key`)}`);
      }
      lines.push('', 'each process: POSTBOTE_TLS_CERT_FILE=<name>.crt POSTBOTE_TLS_KEY_FILE=<name>.key POSTBOTE_TLS_CA_FILE=ca.crt');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  return cmd;
}

function loadOrCreateCa(dir: string): { ca: Pick<CertificateAuthority, 'certificate' | 'key'>; created: boolean } {
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { ca: { certificate: new X509Certificate(readFileSync(certFile)), key: createPrivateKey(readFileSync(keyFile)) }, created: false };
  }
  const ca = createCertificateAuthority({ commonName: 'Postbote CA', days: 3650 });
  write(keyFile, ca.keyPem, 0o600);
  write(certFile, ca.certPem, 0o644);
  return { ca, created: true };
}

function write(path: string, content: string, mode: number): void {
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}
