// Credentials in one place: the server's bearer-token interceptor, TLS on both ends, and the
// client's per-call token. Secrets are read from files the user names; never from argv.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { RuntimeError } from './errors.js';

/** PEM material for mutual TLS: this end's certificate and key, and the CA that signed the other end. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** The name the server's certificate must carry, when it differs from the address's host. */
  readonly serverName?: string;
}

/** What a client needs to reach one agent. */
export interface PeerSpec {
  /** host:port */
  readonly address: string;
  readonly token?: string;
  readonly tls?: TlsMaterial;
}

/** Read a token file (first line, trimmed); `field` names it in errors. */
export function readTokenFile(file: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuntimeError('RUNTIME_CREDENTIALS', `${field}: cannot read token file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 8 || /\s/.test(token)) throw new RuntimeError('RUNTIME_CREDENTIALS', `${field}: token file ${file} must hold one token of at least 8 characters on its first line`);
  return token;
}

/** Read PEM files for TLS; `field` names them in errors. */
export function readTlsFiles(files: { cert: string; key: string; ca: string; serverName?: string }, field: string): TlsMaterial {
  const read = (which: 'cert' | 'key' | 'ca'): string => {
    let text: string;
    try {
      text = readFileSync(files[which], 'utf8');
    } catch (e) {
      throw new RuntimeError('RUNTIME_CREDENTIALS', `${field}.${which}: cannot read ${files[which]} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!text.includes('-----BEGIN')) throw new RuntimeError('RUNTIME_CREDENTIALS', `${field}.${which}: ${files[which]} is not a PEM file`);
    return text;
  };
  return { cert: read('cert'), key: read('key'), ca: read('ca'), ...(files.serverName ? { serverName: files.serverName } : {}) };
}

/** Server credentials: mutual TLS (client certificates required) or plaintext. */
export function serverCredentials(tls?: TlsMaterial): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(Buffer.from(tls.ca), [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], true);
}

/** Client channel credentials and the options that go with them. */
export function clientCredentials(peer: PeerSpec): { creds: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!peer.tls) return { creds: grpc.credentials.createInsecure(), options: {} };
  return {
    creds: grpc.credentials.createSsl(Buffer.from(peer.tls.ca), Buffer.from(peer.tls.key), Buffer.from(peer.tls.cert)),
    options: peer.tls.serverName ? { 'grpc.ssl_target_name_override': peer.tls.serverName, 'grpc.default_authority': peer.tls.serverName } : {},
  };
}

/** Metadata carrying the bearer token (sent on plaintext channels too: grpc-js call credentials need TLS). */
export function tokenMetadata(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function sameToken(given: string, expected: Buffer): boolean {
  const g = Buffer.from(given);
  return g.length === expected.length && timingSafeEqual(g, expected);
}

/** A server interceptor that refuses every call without `authorization: Bearer <token>` (UNAUTHENTICATED). */
export function tokenInterceptor(token: string): grpc.ServerInterceptor {
  const expected = Buffer.from(`Bearer ${token}`);
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const given = metadata.get('authorization')[0];
        if (typeof given === 'string' && sameToken(given, expected)) next(metadata);
        else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: given === undefined ? 'this agent needs a bearer token (tokenFile in the agents file)' : 'this agent refused the bearer token' });
      })
      .build();
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
