import { describe, expect, it } from 'vitest';
import { formatDubboUrl, javaUrlDecode, javaUrlEncode, parseDubboUrl, urlNodeName } from './url.ts';

const SAMPLE =
  'dubbo://30.221.146.35:20880/org.apache.dubbo.samples.api.GreetingsService?anyhost=true&application=first-dubbo-provider&dubbo=2.0.2&interface=org.apache.dubbo.samples.api.GreetingsService&methods=sayHi,sayBye&side=provider';

describe('dubbo url', () => {
  it('encodes like java.net.URLEncoder and decodes back', () => {
    expect(javaUrlEncode("a b:/?&=,!'()~*._-")).toBe('a+b%3A%2F%3F%26%3D%2C%21%27%28%29%7E*._-');
    expect(javaUrlDecode(javaUrlEncode(SAMPLE))).toBe(SAMPLE);
    expect(javaUrlDecode('bad%zz')).toBeUndefined();
  });

  it('parses a provider URL with raw parameter values', () => {
    const r = parseDubboUrl(SAMPLE);
    expect(r.ok && r.url).toMatchObject({ protocol: 'dubbo', host: '30.221.146.35', port: 20880, path: 'org.apache.dubbo.samples.api.GreetingsService' });
    expect(r.ok && r.url.params['methods']).toBe('sayHi,sayBye');
  });

  it('rejects what is not a usable provider URL, saying why', () => {
    expect(parseDubboUrl('dubbo://10.0.0.1/com.Foo')).toEqual({ ok: false, reason: 'URL has no port' });
    expect(parseDubboUrl('dubbo://10.0.0.1:99999/com.Foo')).toEqual({ ok: false, reason: 'URL port 99999 is outside 1-65535' });
    expect(parseDubboUrl('dubbo://10.0.0.1:x/com.Foo')).toMatchObject({ ok: false });
    expect(parseDubboUrl('just text')).toMatchObject({ ok: false });
  });

  it('formats with sorted parameters, so equal URLs give equal znode names', () => {
    const a = { protocol: 'tri', host: '10.0.0.1', port: 50051, path: 'com.Foo', params: { b: '2', a: '1' } };
    expect(formatDubboUrl(a)).toBe('tri://10.0.0.1:50051/com.Foo?a=1&b=2');
    expect(urlNodeName(a)).toBe(urlNodeName({ ...a, params: { a: '1', b: '2' } }));
    const back = parseDubboUrl(javaUrlDecode(urlNodeName(a)) ?? '');
    expect(back.ok && back.url).toEqual(a);
  });
});
