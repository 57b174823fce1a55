/**
 * Registry credentials the way docker finds them: --username/--password-stdin first, then the docker config
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a per-registry credential helper (`credHelpers`), an
 * `auths` entry (`auth` = base64 "user:password"), or the default helper (`credsStore`). A helper is the program
 * `docker-credential-<name>`, run as `get` with the server address on stdin; it prints
 * `{"ServerURL","Username","Secret"}` (docker/docker-credential-helpers protocol). Secrets are registered with the
 * redactor and never printed.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../errors.ts';
import { registerSecret } from '../redact.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
  /** Where they came from, for messages ("--username", "the docker config …", "docker-credential-pass"). */
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys a registry may be stored under in the docker config (docker writes Docker Hub as its v1 URL). */
function configKeys(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  if (registry === 'docker.io' || registry === 'registry-1.docker.io' || registry === 'index.docker.io') keys.push('https://index.docker.io/v1/');
  return keys;
}

export function dockerConfigPath(env: Record<string, string | undefined>): string {
  return env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(env.HOME ?? homedir(), '.docker', 'config.json');
}

async function runHelper(helper: string, server: string, env: Record<string, string | undefined>): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const output = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, ['get'], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new EnvironmentError('OCI_CREDENTIAL_HELPER_MISSING', `The docker config names the credential helper "${helper}", but ${program} is not on PATH.`, {
          hint: `Install ${program}, or remove "${helper}" from the docker config, or pass --username and --password-stdin.`,
          details: { helper },
        }));
      } else reject(error);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(server);
  });
  if (output.code !== 0) {
    // The protocol's answer for "no credentials for that server".
    if (/credentials not found/i.test(output.stdout + output.stderr)) return undefined;
    throw new EnvironmentError('OCI_CREDENTIAL_HELPER_FAILED', `${program} get failed (exit ${output.code}).`, {
      hint: `Run \`echo ${server} | ${program} get\` to see why, or pass --username and --password-stdin.`,
      details: { helper },
    });
  }
  const parsed = JSON.parse(output.stdout) as { Username?: string; Secret?: string };
  if (!parsed.Secret) return undefined;
  registerSecret(parsed.Secret);
  if (parsed.Username === '<token>') {
    throw new UsageError('OCI_IDENTITY_TOKEN', `${program} holds an identity (refresh) token for ${server}; llama does not exchange those yet.`, {
      hint: 'Pass --username and --password-stdin with a registry password or access token instead.',
    });
  }
  return { username: parsed.Username ?? '', password: parsed.Secret, source: program };
}

/** Credentials for `registry`, or undefined to go anonymous. */
export async function resolveRegistryCredentials(
  registry: string,
  options: { username?: string; password?: string; env: Record<string, string | undefined> },
): Promise<RegistryCredentials | undefined> {
  if (options.username !== undefined) {
    registerSecret(options.password);
    return { username: options.username, password: options.password ?? '', source: '--username/--password-stdin' };
  }
  const path = dockerConfigPath(options.env);
  let config: DockerConfig;
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError('OCI_DOCKER_CONFIG', `${path} is not valid JSON: ${(error as Error).message}.`, {
      hint: 'Fix or remove the docker config, or pass --username and --password-stdin.',
      details: { path },
    });
  }
  const keys = configKeys(registry);
  for (const key of keys) {
    const helper = config.credHelpers?.[key];
    if (helper) return runHelper(helper, key, options.env);
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = decoded.slice(colon + 1);
      registerSecret(password);
      registerSecret(entry.auth);
      return { username: decoded.slice(0, colon), password, source: `the docker config ${path}` };
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      registerSecret(entry.password);
      return { username: entry.username, password: entry.password, source: `the docker config ${path}` };
    }
    if (entry.identitytoken) {
      throw new UsageError('OCI_IDENTITY_TOKEN', `${path} holds an identity (refresh) token for ${registry}; llama does not exchange those yet.`, {
        hint: 'Pass --username and --password-stdin with a registry password or access token instead.',
      });
    }
  }
  if (config.credsStore) return runHelper(config.credsStore, registry, options.env);
  return undefined;
}
