import type { Context } from 'koa';

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
