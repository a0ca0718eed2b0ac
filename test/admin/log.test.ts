import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLine, redactDeep, silentLogger } from '../../control-plane/src/log.js';

function capture(pretty = false) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const logger = createLogger({ level: 'debug', pretty, destination: stream });
  return { logger, text: () => text };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label and message', () => {
    const { logger, text } = capture();
    logger.info({ group: 'envoy' }, 'snapshot published');
    const rec = JSON.parse(text().trim());
    expect(rec).toMatchObject({ level: 'info', msg: 'snapshot published', group: 'envoy' });
    expect(typeof rec.time).toBe('string');
  });

  it('redacts private keys and passwords at any depth', () => {
    const { logger, text } = capture();
    const secret = { name: 'ns/s', tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' } } };
    logger.info({ private_key: 'K0', resources: { secrets: [secret] }, a: { b: { c: { d: { password: 'PW' } } } } }, 'dump');
    logger.warn({ headers: { authorization: 'Bearer TOKEN' }, data: { 'tls.key': 'TLSKEY', 'tls.crt': 'CRT' } }, 'req');
    const out = text();
    for (const s of ['K0', '"KEY"', 'PW', 'TOKEN', 'TLSKEY']) expect(out).not.toContain(s);
    expect(out).toContain('CERT');
    expect(out).toContain('CRT');
    expect(out).toContain('[redacted]');
    // The logged objects themselves are untouched.
    expect(secret.tls_certificate.private_key.inline_string).toBe('KEY');
  });

  it('still serializes errors', () => {
    const { logger, text } = capture();
    logger.error({ err: new Error('boom') }, 'failed');
    const rec = JSON.parse(text().trim());
    expect(rec.err.message).toBe('boom');
    expect(rec.err.stack).toContain('boom');
  });

  it('pretty mode prints one readable line, still redacted', () => {
    const { logger, text } = capture(true);
    logger.info({ group: 'envoy', password: 'PW' }, 'hello world');
    const line = text().trim();
    expect(line).toMatch(/INFO\s+hello world group=envoy password=\[redacted\]$/);
    expect(line).not.toContain('PW');
  });

  it('silentLogger writes nothing and accepts every level', () => {
    const l = silentLogger();
    expect(l.level).toBe('silent');
    l.info('x');
    l.error({ err: new Error('x') }, 'y');
    l.child({ a: 1 }).warn('z');
  });
});

describe('redactDeep', () => {
  it('returns the same object when nothing is secret', () => {
    const o = { a: [1, { b: 'c' }], d: null };
    expect(redactDeep(o)).toBe(o);
  });
  it('survives cycles', () => {
    const o: Record<string, unknown> = { password: 'x' };
    o['self'] = o;
    expect((redactDeep(o) as Record<string, unknown>)['password']).toBe('[redacted]');
  });
});

describe('prettyLine', () => {
  it('formats numeric levels and epoch times', () => {
    expect(prettyLine({ level: 40, time: 0, msg: 'm', k: 'a b' })).toBe('00:00:00.000 WARN  m k="a b"');
  });
});
