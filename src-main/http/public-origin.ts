import type { Context, Next } from 'koa';
import { headerLines } from './header-lines';

/**
 * The origin clients reach the server at, for `meta.location`, `Location` and `$ref`. A tunnel
 * (ngrok, cloudflared) terminates TLS and forwards plain HTTP with `X-Forwarded-Proto: https`:
 * without it every URL the server hands out would say `http://` to a client that must use
 * `https://`. Only the scheme is taken from the header, and only `http` or `https`: the host comes
 * from `Host`, which tunnels pass on, so a forged `X-Forwarded-Host` cannot point answers elsewhere.
 */
export function publicOrigin(ctx: Context): string {
  const forwarded = ctx.get('X-Forwarded-Proto').split(',')[0]?.trim().toLowerCase();
  const protocol = forwarded === 'https' || forwarded === 'http' ? forwarded : ctx.protocol;
  return `${protocol}://${ctx.host}`;
}

/**
 * RFC 3986 §3.2.2-3.2.3 `host [":" port]`: an IP literal in brackets, or a registered name /
 * IPv4 address (unreserved, percent-encoded and sub-delims characters), then an optional port.
 */
const HOST_FIELD = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]{0,5})?$/;

/**
 * RFC 9112 §3.2: a request with more than one Host, or a Host that is not a host and port, is
 * answered 400. The server builds `Location`, `meta.location` and `$ref` from Host, so a value such
 * as `evil.example/x?` would otherwise reach every URL it hands out. (Node refuses an HTTP/1.1
 * request without Host before it gets here.)
 */
export function refusingInvalidHost() {
  return async function checkHost(ctx: Context, next: Next): Promise<void> {
    const hosts = headerLines(ctx, 'host');
    const host = ctx.get('Host');
    if (hosts > 1 || (host !== '' && !HOST_FIELD.test(host))) {
      throw Object.assign(
        new Error(
          hosts > 1
            ? 'The request has more than one Host header.'
            : 'The Host header is not a host name or address with an optional port.',
        ),
        {
          status: 400,
          expose: true,
        },
      );
    }
    await next();
  };
}
