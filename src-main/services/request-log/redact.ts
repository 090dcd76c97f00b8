import { unescape } from 'node:querystring';
import { REDACTED } from '@shared/request-log';
import { jsonTextDeeperThan } from '../../json-depth';
import { findNamedValues, replaceValues } from './redact-text';
import { SecretMatcher } from './secret-matcher';

/**
 * Redaction for the request log (DESIGN.md §4): pure functions, no I/O.
 *
 * Two passes. The structural pass replaces what is secret by *position*: credential headers,
 * token-like query parameters, JSON properties named like secrets, the `value` of a SCIM PATCH
 * operation whose `path` names `password`. Every value it removes is collected, and the second pass
 * (`scrubSecrets`) removes those same strings wherever else they appear — an error detail that
 * echoes a password, a response that repeats a bearer token — so that a secret seen once in a
 * request cannot survive anywhere in its log entry.
 */

/** Header names redacted whole (values kept as `Scheme [redacted]` where they carry a scheme). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key']);
const COOKIE_HEADERS = new Set(['cookie', 'set-cookie']);
/**
 * Any other header whose name says it carries a secret (`x-auth-token`, `x-client-secret`,
 * `x-custom-auth`, `x-authorization`, `x-functions-key`, `ocp-apim-subscription-key`,
 * `x-hub-signature`, `x-session-id`, `x-user-pass`), and `Authentication`, a misspelt Authorization.
 * `auth`, `pass` and `pwd` only as whole words of the name: `www-authenticate` names a scheme and
 * `x-passport-country` a country, not a secret. A name ending in `key`
 * is one, but for the keys that are not secrets (`idempotency-key`, `sec-websocket-key`). A name
 * that says what it carries (`x-upstream-bearer`, `x-forwarded-jwt`, `x-original-cookie`) too, and
 * one naming a key or passphrase (`x-private-key-pem`, `x-passphrase`) as the body's names are read.
 */
const SECRET_HEADER_NAME =
  /token|secret|api[-_]?key|private[-_]?key|passphrase|passw(or)?d|credential|signature|session|authorization|bearer|jwt|cookie|^authentication$|(^|[-_])(auth|pass|pwd)([-_]|$)|[-_]key$/i;
const PUBLIC_KEY_HEADERS = new Set(['idempotency-key', 'sec-websocket-key']);
/**
 * A value that is a credential by its form, whatever header carries it: `Bearer …`, `Basic …`,
 * Okta's `SSWS …` and the other schemes of RFC 9110 §11.4 an IdP or a gateway sends, as a proxy
 * forwards them under a name no rule above knows (`X-Forwarded-Identity`, `X-Forwarded-Access`). The
 * challenge headers (`WWW-Authenticate: Bearer realm=…`) name a scheme and hold no secret.
 */
const CREDENTIAL_SCHEME_VALUE =
  /^\s*(?:bearer|basic|digest|negotiate|ntlm|ssws|token|hoba|mutual|aws4-hmac-sha256)\s+(\S.*)$/i;

/**
 * What follows a scheme reads as a credential: a token68 with a digit, a `+`, `/` or `=`, both
 * cases, or 20 characters or more; or auth-params (`username="…", nonce=…`). Words do not:
 * `Token expired` or `Bearer required` is a sentence, whose last word the second pass would then
 * have hidden everywhere in the entry.
 */
function credentialAfterScheme(value: string): boolean {
  // The first token only: a proxy may join two credentials (`Bearer x, Bearer y`) or add a word.
  const rest = CREDENTIAL_SCHEME_VALUE.exec(value)?.[1]?.trim().split(/[\s,]/)[0];
  if (rest === undefined || rest === '') return false;
  if (/^[A-Za-z0-9\-._~+/]+=*$/.test(rest)) {
    return /[0-9+/=]/.test(rest) || (/[a-z]/.test(rest) && /[A-Z]/.test(rest)) || rest.length >= 20;
  }
  return /[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=/.test(rest);
}
const CHALLENGE_HEADERS = new Set(['www-authenticate', 'proxy-authenticate']);

/**
 * Query parameters named in the issue, plus names that end like a token in any spelling
 * (`refresh_token`, `apiToken`; a `nextPageToken` goes too, which costs the log little), an API key
 * (`api-key`, `x-api-key`, `client_apikey`), and the names of credentials themselves (`jwt`,
 * `authorization`, `session`), as the header names are read.
 */
const SECRET_QUERY_NAMES = new Set([
  'token',
  'access_token',
  'code',
  'secret',
  'password',
  'pass',
  'pwd',
  'api_key',
  'apikey',
  'key',
  'sig',
  'signature',
]);
const SECRET_QUERY_SUFFIX =
  /(?:token|secret|passw(?:or)?d|passphrase|signature|credentials?)$|(?:api|private)[-_.]?key$|^(?:authorization|authentication|auth|bearer|jwt|session(?:[-_]?id)?)$/i;

/**
 * JSON property names whose values are never logged. `password` is the issue's rule; the others
 * are here because the admin API's own answers carry secrets shown once (`POST /scim-tokens/`
 * answers `token`, `POST /session` answers the admin `token`), and DESIGN.md §4 says no token
 * is ever logged in clear. Matched case-insensitively on the last segment of the name, so
 * `urn:ietf:params:scim:schemas:core:2.0:User:password` counts as `password`.
 */
const SECRET_BODY_KEYS = new Set([
  'password',
  'passwd',
  'pwd',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'secret',
  'api_key',
  'apikey',
]);

/**
 * Names no SCIM schema has, which other APIs and scripts send a password or a credential under
 * (`newPassword`, `userPassword`, `old_passwd`, `apiToken`, `clientSecret`, `privateKey`,
 * `x-api-key`, `passphrase`): the compatible profile ignores them as unknown attributes, so nothing
 * stored them, but the log kept them in clear. The endings are those query names are read by.
 */
const SECRET_NAME_ENDING = 'passw(?:or)?d|token|secret|credentials?|api[-_]?key|private[-_]?key|passphrase';
const SECRET_BODY_KEY_SUFFIX = new RegExp(`(?:${SECRET_NAME_ENDING})$`);

/** Strings shorter than this are not scrubbed elsewhere: replacing "abc" everywhere would mangle text. */
const MIN_SCRUB_LENGTH = 6;
/** Deeper than any real SCIM body; a guard against cyclic objects handed in by mistake. */
const MAX_DEPTH = 64;

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export type RawHeaderValue = string | string[] | number | undefined;
export type RawHeaders = Readonly<Record<string, RawHeaderValue>>;
export type RawQuery = string | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * How much secret text one entry may collect, in UTF-16 code units, each secret counted at its
 * longer of its own and its JSON-escaped length (both automata are built). The second pass finds
 * them all in one read of each text (`SecretMatcher`), but builds its automata first, and that
 * build is the cost: at 256 Ki units an entry took the log's worker 1–3 s (review), at this one a
 * few milliseconds. A Bulk of 1,000 users with 20-character passwords holds ~20,000; an audit's
 * body of 380,000 strings under `password` millions. Past it, the entry keeps no body at all (see
 * `overflowed`).
 */
export const MAX_SECRET_UNITS = 32 * 1024;

/** Collects the secret values the structural pass removed, for `scrubSecrets`. */
export class SecretSet {
  readonly values = new Set<string>();
  /** More than MAX_SECRET_UNITS were offered: scrubbing cannot be trusted to be cheap and complete. */
  overflowed = false;
  private units = 0;
  private matchers: { values: SecretMatcher; json: SecretMatcher } | undefined;

  add(value: unknown): void {
    if (this.overflowed) return;
    if (typeof value === 'string') {
      if (value.length < MIN_SCRUB_LENGTH || this.values.has(value)) return;
      const units = Math.max(value.length, JSON.stringify(value).length - 2);
      if (this.units + units > MAX_SECRET_UNITS) this.overflowed = true;
      else {
        this.values.add(value);
        this.units += units;
        this.matchers = undefined;
      }
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      this.add(String(value));
    } else if (Array.isArray(value)) {
      for (const item of value) this.add(item);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) this.add(item);
    }
  }

  /** Finds the secrets as they are. */
  get matcher(): SecretMatcher {
    return this.built().values;
  }

  /** Finds the secrets as serialized JSON holds them (each character escaped as in a string). */
  get jsonMatcher(): SecretMatcher {
    return this.built().json;
  }

  private built(): { values: SecretMatcher; json: SecretMatcher } {
    if (this.matchers === undefined) {
      const secrets = [...this.values];
      const values = new SecretMatcher(secrets);
      const forms = secrets.map((secret) => JSON.stringify(secret).slice(1, -1));
      // Most secrets need no escape: one automaton then serves both.
      const same = forms.every((form, i) => form.length === secrets[i]!.length);
      this.matchers = { values, json: same ? values : new SecretMatcher(forms) };
    }
    return this.matchers;
  }
}

function lastSegment(spelled: string): string {
  // The PATCH path parser skips whitespace around a path (`" password"` sets the password), so the
  // redaction must read the name the same way.
  const name = innermostName(spelled.trim());
  const cut = Math.max(name.lastIndexOf(':'), name.lastIndexOf('.'));
  return (cut >= 0 ? name.slice(cut + 1) : name).toLowerCase();
}

export function isSecretBodyKey(name: string): boolean {
  const key = lastSegment(name);
  return SECRET_BODY_KEYS.has(key) || SECRET_BODY_KEY_SUFFIX.test(key);
}

/**
 * Whether the value under a property named `key` is secret. `null` never is: that the client sent
 * none is worth seeing. Nor is a flag under a name that only ends like a password
 * (`mustChangePassword: true`, `resetPassword: false`): it was logged as `[redacted]`, which hid
 * what the client asked for and protected nothing.
 */
function holdsSecret(key: string, item: unknown): boolean {
  if (item === null || !isSecretBodyKey(key)) return false;
  return typeof item !== 'boolean' || SECRET_BODY_KEYS.has(lastSegment(key));
}

/** A PATCH path such as `password`, `PASSWORD` or `urn:...:User:password` (value filters ignored). */
function isSecretPatchPath(path: unknown): boolean {
  if (typeof path !== 'string') return false;
  const bracket = path.indexOf('[');
  const attribute = bracket >= 0 ? path.slice(0, bracket) : path;
  // `password.value` names no sub-attribute SCIM has, but a client that sends it means the password.
  return isSecretBodyKey(attribute) || isSecretBodyKey(attribute.replace(/\.[A-Za-z0-9_$-]+$/, ''));
}

/** The value of an object's `path` property, its name matched as the PATCH parser matches it (any case). */
function patchPathOf(record: Record<string, unknown>): unknown {
  if ('path' in record) return record['path'];
  for (const key of Object.keys(record)) if (key.toLowerCase() === 'path') return record[key];
  return undefined;
}

/** `password eq "x"` and the like in a filter: the comparison value is a password guess. */
const FILTER_SECRET_COMPARISON =
  /(\bpassword(?:\.[A-Za-z0-9_$-]+)?"?\s+(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s*)("(?:[^"\\]|\\.)*"?|[^\s()\]"]+)/gi;
/** `password[value eq "x"]`: whatever a value filter on the password compares is a guess at it. */
const FILTER_SECRET_VALUE_FILTER = /(\bpassword\s*\[)((?:"(?:[^"\\]|\\.)*"?|[^\]"])*)(\]?)/gi;

/**
 * A filter with the values it compares `password` against replaced (rare: password is never
 * returned): `password eq "x"`, `password.value eq "x"`, and the whole of `password[…]`.
 */
function redactFilter(filter: string, secrets: SecretSet): string {
  return withoutEscapedCredentials(filter, secrets)
    .replace(FILTER_SECRET_VALUE_FILTER, (_all, lead: string, inside: string, close: string) => {
      for (const literal of inside.match(/"(?:[^"\\]|\\.)*"?/g) ?? []) {
        secrets.add(literal);
        secrets.add(unquote(literal));
      }
      return `${lead}${REDACTED}${close}`;
    })
    .replace(FILTER_SECRET_COMPARISON, (_all, lead: string, literal: string) => {
      secrets.add(literal);
      secrets.add(unquote(literal));
      return `${lead}"${REDACTED}"`;
    });
}

/**
 * A filter's string literal (RFC 7644 §3.4.2.2: a JSON string), quotes included; one left open
 * runs to the end. The closing quote is optional: required, a run of `"` made every one of them
 * scan to the end, and a 256 KB body took the log's thread 6 s (review).
 */
const FILTER_STRING_LITERAL = /"(?:[^"\\]|\\.)*"?/g;

/**
 * A filter with each string literal whose escapes spell a credential replaced: the server reads
 * `"scimdesk\u005f…"` as the token it spells, while the shape scrub reads the text as sent, and
 * kept it in clear (security probe).
 */
function withoutEscapedCredentials(filter: string, secrets: SecretSet): string {
  if (!filter.includes('\\')) return filter;
  return filter.replace(FILTER_STRING_LITERAL, (literal) => {
    if (!literal.includes('\\')) return literal;
    // Read leniently: a literal the parser refuses (left open, a bad escape) was still sent, and
    // is logged.
    const decoded = literal.replace(/\\u([0-9a-fA-F]{4})|\\(.)/g, (_all, hex: string | undefined, char: string) =>
      hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : char,
    );
    if (decoded.match(CREDENTIAL_ANYWHERE) === null) return literal;
    secrets.add(literal);
    secrets.add(literal.replace(/^"|"$/g, ''));
    return literal.endsWith('"') && literal.length > 1 ? `"${REDACTED}"` : `"${REDACTED}`;
  });
}

/**
 * A PATCH path with a value filter. Under a password path the whole filter goes: whatever it compares
 * is a guess at the password. Elsewhere a filter names `password` as a `.search` filter does.
 */
function redactPathFilter(path: string, secrets: SecretSet): string {
  if (!isSecretPatchPath(path)) return redactFilter(path, secrets);
  const open = path.indexOf('[');
  const close = path.lastIndexOf(']');
  const inside = close > open ? path.slice(open + 1, close) : path.slice(open + 1);
  // Only the quoted literals are scrubbed elsewhere: the names and operators around them are not secret.
  for (const literal of inside.match(/"(?:[^"\\]|\\.)*"?/g) ?? []) {
    secrets.add(literal);
    secrets.add(unquote(literal));
  }
  return `${path.slice(0, open + 1)}${REDACTED}${close > open ? path.slice(close) : ''}`;
}

/**
 * Values that are credentials whatever carries them: this server's own SCIM tokens (their
 * `scimdesk_` prefix, services/scim-tokens.ts) and JWTs (admin tokens among them), wherever they sit
 * in an entry's text (DESIGN.md §4): after a scheme (`?x=Bearer+eyJ…`), as a bare query part
 * (`?scimdesk_…`), in the path, in a header no name rule knows (`Authentication:`, a misconfigured
 * IdP's), echoed in an error or a body. Their characters need no JSON escape and hold no quote, so
 * replacing them inside serialized JSON keeps it JSON. A token's 15-character `token_prefix` is
 * shorter than the 16 characters asked for after `scimdesk_`, so it is kept.
 */
const CREDENTIAL_ANYWHERE =
  /scimdesk_[A-Za-z0-9_-]{16,}|(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** `text` with every credential-shaped value (CREDENTIAL_ANYWHERE) replaced. */
export function scrubCredentialValues(text: string): string {
  return text.replace(CREDENTIAL_ANYWHERE, REDACTED);
}

/**
 * The path as sent, with each segment that holds a credential once percent-decoded replaced whole:
 * `scimdesk%5F…` for `scimdesk_…` hid a SCIM token from the scrub, which reads the raw text. (A
 * segment that holds one as it is, is scrubbed with the rest of the entry.)
 */
export function redactPath(path: string, secrets: SecretSet): string {
  if (!path.includes('%')) return path;
  return path
    .split('/')
    .map((segment) => {
      if (!segment.includes('%')) return segment;
      const found = unescape(segment).match(CREDENTIAL_ANYWHERE);
      if (!found) return segment;
      for (const value of found) secrets.add(value);
      // As sent too: an error quoting the path ("No SCIM endpoint at /scim/v2/scimdesk%5F…") has
      // the encoded form, which the shape scrub does not see.
      secrets.add(segment);
      return REDACTED;
    })
    .join('/');
}

/** The whole value is a credential (CREDENTIAL_ANYWHERE's shapes). */
const CREDENTIAL_VALUE = new RegExp(`^(?:${CREDENTIAL_ANYWHERE.source})$`);

function looksLikeCredential(value: string): boolean {
  return CREDENTIAL_VALUE.test(value.trim());
}

export function isSecretQueryName(name: string): boolean {
  const lower = innermostName(name.toLowerCase());
  return SECRET_QUERY_NAMES.has(lower) || SECRET_QUERY_SUFFIX.test(lower);
}

/**
 * `user[password]` (the nesting PHP, Rails and `qs` read in forms and queries) names `password`:
 * the name in the last brackets, when the name ends with them.
 */
function innermostName(name: string): string {
  const nested = /\[([^[\]]*)\]$/.exec(name);
  return nested ? nested[1]! : name;
}

// ---------------------------------------------------------------------------------------------
// Headers

function redactCredential(value: string, secrets: SecretSet): string {
  // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the scheme is useful.
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(.+)$/s.exec(value.trim());
  if (match) {
    secrets.add(match[2]);
    return `${match[1]} ${REDACTED}`;
  }
  secrets.add(value);
  return REDACTED;
}

/** `a=1; b=2` → `a=[redacted]; b=[redacted]`; Set-Cookie keeps its attributes (Path, HttpOnly...). */
function redactCookie(value: string, isSetCookie: boolean, secrets: SecretSet): string {
  const parts = value.split(';');
  const redactPart = (part: string): string => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    secrets.add(part.slice(eq + 1).trim());
    return `${part.slice(0, eq + 1)}${REDACTED}`;
  };
  if (isSetCookie) return [redactPart(parts[0] ?? ''), ...parts.slice(1)].join(';');
  return parts.map(redactPart).join(';');
}

export function redactHeaders(headers: RawHeaders | undefined, secrets: SecretSet): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers) return out;
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const redactOne = (value: string): string => {
      if (CREDENTIAL_HEADERS.has(name)) return redactCredential(value, secrets);
      if (COOKIE_HEADERS.has(name)) return redactCookie(value, name === 'set-cookie', secrets);
      if (SECRET_HEADER_NAME.test(name) && !PUBLIC_KEY_HEADERS.has(name)) {
        secrets.add(value);
        return REDACTED;
      }
      if (credentialAfterScheme(value) && !CHALLENGE_HEADERS.has(name)) return redactCredential(value, secrets);
      return URL_HEADERS.has(name) ? redactedUrl(value, secrets) : value;
    };
    out[name] = Array.isArray(rawValue) ? rawValue.map((v) => redactOne(String(v))) : redactOne(String(rawValue));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Query strings

/**
 * Decoded as Koa's query parser decodes (node:querystring): a malformed `%` escape stays as it is
 * and the rest is decoded, so one stray `%` cannot hide a filter's password from the redaction.
 */
function safeDecode(text: string): string {
  return unescape(text.replace(/\+/g, ' '));
}

/**
 * The query string as sent (without `?`), token-like parameters' values replaced. Other
 * parameters are kept byte for byte: the log is for seeing what an IdP actually sent.
 */
export function redactQuery(query: RawQuery | undefined, secrets: SecretSet): string {
  if (query === undefined) return '';
  if (typeof query !== 'string') {
    const parts: string[] = [];
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const one of typeof value === 'string' ? [value] : value) {
        parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(one)}`);
      }
    }
    return redactQuery(parts.join('&'), secrets);
  }
  const text = query.startsWith('?') ? query.slice(1) : query;
  if (text === '') return '';
  return text
    .split('&')
    .map((whole) => {
      const eq = whole.indexOf('=');
      // A name, or a part without `=`, percent-encoded around a credential (`?scimdesk%5F…`): the
      // shape scrub reads the raw text, which hides it, as redactPath says of path segments.
      const rawName = eq < 0 ? whole : whole.slice(0, eq);
      const found = rawName.includes('%') ? safeDecode(rawName).match(CREDENTIAL_ANYWHERE) : null;
      if (found) {
        for (const credential of found) secrets.add(credential);
        secrets.add(rawName);
      }
      const part = found ? `${REDACTED}${eq < 0 ? '' : whole.slice(eq)}` : whole;
      if (eq < 0) return part;
      const name = found ? REDACTED : safeDecode(rawName);
      const at = part.indexOf('=');
      const value = part.slice(at + 1);
      if (name.toLowerCase() === 'filter') {
        const filter = safeDecode(value);
        const redacted = withoutEncodedCredentials(redactFilter(filter, secrets), value, secrets);
        return redacted === filter ? part : `${part.slice(0, at)}=${encodeURIComponent(redacted)}`;
      }
      if (!isSecretQueryName(name) && !looksLikeCredential(safeDecode(value))) {
        const decoded = safeDecode(value);
        const redacted = withoutEncodedCredentials(decoded, value, secrets);
        return redacted === decoded ? part : `${part.slice(0, at)}=${encodeURIComponent(redacted)}`;
      }
      secrets.add(value);
      secrets.add(safeDecode(value));
      return `${part.slice(0, at)}=${REDACTED}`;
    })
    .join('&');
}

/**
 * A decoded query value with the credentials its escapes hid replaced: `filter=userName eq
 * "scimdesk%5F…"` kept the token in clear, since the shape scrub reads the text as sent (as
 * redactPath says of path segments). Only where an escape is there to hide one.
 */
function withoutEncodedCredentials(decoded: string, sent: string, secrets: SecretSet): string {
  if (!sent.includes('%')) return decoded;
  const found = decoded.match(CREDENTIAL_ANYWHERE);
  if (!found) return decoded;
  for (const credential of found) secrets.add(credential);
  return decoded.replace(CREDENTIAL_ANYWHERE, REDACTED);
}

/**
 * Headers whose value is a URL: `Referer`, where a response sends one, and those a reverse proxy
 * forwards the original request's URL in. Only these: a `?` in other text (`why?code=busy`, a
 * quoted file name) begins no query.
 */
const URL_HEADERS = new Set([
  'referer',
  'location',
  'content-location',
  'x-original-url',
  'x-original-uri',
  'x-forwarded-uri',
  'x-rewrite-url',
]);

/**
 * A URL a header carries, its path and query redacted as the request's own are: `?access_token=…`
 * and `/scimdesk%5F…/` there were kept in clear.
 */
function redactedUrl(value: string, secrets: SecretSet): string {
  const start = value.indexOf('?');
  const hash = value.indexOf('#', start < 0 ? 0 : start);
  const pathEnd = start >= 0 ? start : hash >= 0 ? hash : value.length;
  const path = redactPath(value.slice(0, pathEnd), secrets);
  if (start < 0) return `${path}${value.slice(pathEnd)}`;
  const end = hash < 0 ? value.length : hash;
  return `${path}?${redactQuery(value.slice(start + 1, end), secrets)}${value.slice(end)}`;
}

// ---------------------------------------------------------------------------------------------
// Bodies

/** A redacted deep copy; the caller's object is never modified. */
export function redactJson(value: unknown, secrets: SecretSet, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets, depth + 1));
  const record = value as Record<string, unknown>;
  // RFC 7644 §3.5.2: {"op":"replace","path":"password","value":"x"} — the secret is in `value`.
  const secretValue = isSecretPatchPath(patchPathOf(record));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    if (holdsSecret(key, item) || (secretValue && key.toLowerCase() === 'value' && item !== null)) {
      secrets.add(item);
      out[key] = REDACTED;
    } else if (typeof item === 'string' && key.toLowerCase() === 'filter') {
      // A .search request's filter.
      out[key] = redactFilter(item, secrets);
    } else if (typeof item === 'string' && key.toLowerCase() === 'path' && item.startsWith('/') && item.includes('?')) {
      // A Bulk operation's URL: `/Users?filter=password eq "x"` is a query like any other.
      const at = item.indexOf('?');
      out[key] = `${item.slice(0, at)}?${redactQuery(item.slice(at + 1), secrets)}`;
    } else if (typeof item === 'string' && key.toLowerCase() === 'path' && item.includes('[')) {
      // A PATCH path's value filter: `password[value eq "x"]` compares the password with a guess.
      out[key] = redactPathFilter(item, secrets);
    } else {
      out[key] = redactJson(item, secrets, depth + 1);
    }
  }
  return out;
}

const SECRET_KEY_ALTERNATION = [...SECRET_BODY_KEYS].join('|');
/** Secret property names in text that is not JSON (see redact-text.ts for how a pair is found). */
const TEXT_SECRET_NAME = new RegExp(SECRET_KEY_ALTERNATION, 'gi');
/** SECRET_BODY_KEY_SUFFIX in text: a name that ends with it (`"newPassword":`, `"apiToken":`). */
const TEXT_SECRET_NAME_SUFFIX = new RegExp(SECRET_NAME_ENDING, 'gi');
const TEXT_PATCH_VALUE_NAME = /value/gi;
/** A JSON `\uXXXX` escape of a character that could spell a name or the space around it. */
const TEXT_NAME_ESCAPE = /\\u(00[2-7][0-9a-fA-F])/g;
const NAME_CHARACTER = /^[\w :.$-]$/;
/**
 * `password=x&...` in form-encoded or other text bodies (a quoted value is TEXT_QUOTED_SECRET's),
 * also nested as `user[password]=` or `a[b][password]=` (four levels at most), its brackets as
 * sent or percent-encoded (innermostName).
 */
const TEXT_FORM_SECRET = new RegExp(
  `(^|[&?;\\s])((?:[\\w-]{0,64}(?:\\[|%5b)(?:[\\w-]{0,64}(?:\\]|%5d)(?:\\[|%5b)){0,3})?(?:${SECRET_KEY_ALTERNATION}|[\\w-]{0,64}(?:${SECRET_NAME_ENDING}))(?:\\]|%5d)?=)([^&;\\s"'][^&;\\s]*)?`,
  'gi',
);
/** A form pair whose name holds an escape (`pass%77ord=x`), with a value. */
const ESCAPED_FORM_PAIR = /(^|[&?;\s])([^=&;\s]*%[0-9A-Fa-f]{2}[^=&;\s]*)=([^&;\s"'][^&;\s]*)/g;
/** TEXT_FORM_SECRET for one name as read, from its start. */
const FORM_SECRET_NAME = new RegExp(TEXT_FORM_SECRET.source, 'i');
/** `password="x y"` or `password = 'x'`: an XML attribute, a header-like line, a config snippet. */
const TEXT_QUOTED_SECRET = new RegExp(`(\\b(?:${SECRET_KEY_ALTERNATION})\\s*=\\s*)("[^"]*"?|'[^']*'?)`, 'gi');
/** `<password>x</password>`, `<scim:Password type="t">x`: an XML body sent under a JSON type. */
const TEXT_ELEMENT_SECRET = new RegExp(
  `(<(?:[\\w.-]{1,64}:)?(?:${SECRET_KEY_ALTERNATION})(?:\\s[^<>]{0,256})?>)([^<]*)`,
  'gi',
);

function unquote(text: string): string {
  const quote = text[0];
  if (quote !== '"' && quote !== "'") return text;
  return text.slice(1, text.endsWith(quote) && text.length > 1 ? -1 : undefined);
}

/** The values of the pairs `names` finds, replaced, each collected for the second pass. */
function redactNamedValues(
  text: string,
  names: RegExp,
  secrets: SecretSet,
  options: { asSuffix?: boolean } = {},
): string {
  // A value an earlier pass replaced is no secret: scrubbed everywhere, it would lose its quotes.
  const values = findNamedValues(text, names, options).filter((value) => value.raw !== `"${REDACTED}"`);
  for (const value of values) {
    secrets.add(value.raw);
    for (const string of value.strings) secrets.add(string);
  }
  return replaceValues(text, values, `"${REDACTED}"`);
}

/**
 * Best effort for text that does not parse. When a PATCH path names `password` we cannot tell which
 * `value` belongs to it without parsing, so every `value` in the text is redacted.
 */
export function redactText(text: string, secrets: SecretSet): string {
  // `"pass\u0077ord"` names the password as well as the plain spelling does; the escapes of such
  // characters are written out first so that the names are seen.
  let out = text.replace(TEXT_NAME_ESCAPE, (escape, hex: string) => {
    const character = String.fromCharCode(parseInt(hex, 16));
    return NAME_CHARACTER.test(character) ? character : escape;
  });
  out = redactNamedValues(out, TEXT_SECRET_NAME, secrets);
  out = redactNamedValues(out, TEXT_SECRET_NAME_SUFFIX, secrets, { asSuffix: true });
  // Without parsing there is no telling which `value` a PATCH path names, so any text that has a
  // path and mentions a password loses all its values: over-redacting a malformed body is cheap.
  if (/path/i.test(out) && /password/i.test(out)) out = redactNamedValues(out, TEXT_PATCH_VALUE_NAME, secrets);
  out = out.replace(TEXT_FORM_SECRET, (all, lead: string, name: string, value: string | undefined) => {
    if (value === undefined) return all;
    secrets.add(value);
    secrets.add(safeDecode(value));
    return `${lead}${name}${REDACTED}`;
  });
  // A name spelled with escapes (`pass%77ord=`) names the password as the server's form parser
  // reads it. Its value is replaced where it stands: only collected for the second pass, a short
  // one (under 6 characters) or one itself escaped was kept in clear.
  if (out.includes('%')) {
    out = out.replace(ESCAPED_FORM_PAIR, (all, lead: string, name: string, value: string) => {
      const read = `${safeDecode(name)}=`;
      const named = FORM_SECRET_NAME.exec(read);
      if (!named || named.index !== 0 || named[2] !== read) return all;
      secrets.add(value);
      secrets.add(safeDecode(value));
      return `${lead}${name}=${REDACTED}`;
    });
  }
  // A client that labels XML as JSON (or sends it as text) would otherwise see its password logged.
  out = out.replace(TEXT_QUOTED_SECRET, (_all, lead: string, quoted: string) => {
    const quote = quoted[0]!;
    secrets.add(unquote(quoted));
    return `${lead}${quote}${REDACTED}${quoted.length > 1 && quoted.endsWith(quote) ? quote : ''}`;
  });
  return out.replace(TEXT_ELEMENT_SECRET, (_all, open: string, value: string) => {
    if (value.trim() === '') return `${open}${value}`;
    secrets.add(value);
    secrets.add(value.trim());
    return `${open}${REDACTED}`;
  });
}

export interface RedactedBody {
  /** The redacted value; absent when text known to be JSON was kept as it came, unparsed. */
  body?: unknown;
  truncated: boolean;
  bytes: number;
  /** `body` serialized as JSON, for the entry's line (so it is not serialized a second time). */
  json: string;
}

/** Cut at a UTF-8 character boundary, never inside a multi-byte sequence. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/**
 * Text the structural pass might change: any substring a secret property name (SECRET_BODY_KEYS,
 * any case) would contain, a backslash escape JSON.stringify would not write (`\/`, `\u0070`, which
 * could spell a name), or a raw line break or tab (never in a serialization). One pattern, one scan.
 * Unicode case folding (`u`): the Kelvin sign lower-cases to `k`, so `to\u212Aen` names a secret to
 * `isSecretBodyKey` and must match here too (without `u`, `/token/i` does not match it).
 */
const MIGHT_CHANGE = /passw|pwd|token|secret|api_?key|\\[^"\\bfnrt]|[\n\r\t]/iu;

/**
 * Whether JSON text (known to parse) is what the structural pass would give back unchanged: no
 * property can be named like a secret, no escape spells one, not too deep. The text itself is then
 * the redacted body's serialization. Most bodies are like this; skipping the copy and the second
 * serialization cuts about a third of the log's cost per entry (issue #8).
 */
function keptAsItCame(text: string): boolean {
  // Depth counts containers, redactJson counts levels below the top: deeper than MAX_DEPTH levels
  // means MAX_DEPTH + 1 containers.
  return !MIGHT_CHANGE.test(text) && !jsonTextDeeperThan(text, MAX_DEPTH);
}

/**
 * A body as the log keeps it: JSON (given parsed, or as text that parses) redacted structurally,
 * other text redacted by pattern; past `limit` serialized bytes, the first `limit` bytes of the
 * serialization as a string with `truncated: true`. `knownJson` says the text is a JSON object or
 * array (the request thread parsed or wrote it): then it is not parsed again to be kept as it came.
 */
export function redactBody(
  body: unknown,
  secrets: SecretSet,
  limit = DEFAULT_BODY_LIMIT,
  knownJson = false,
): RedactedBody {
  if (body === undefined || body === null || body === '')
    return { body: null, truncated: false, bytes: 0, json: 'null' };
  let value: unknown;
  let serialized: string | undefined;
  if (body instanceof Uint8Array) body = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (typeof body === 'string' && knownJson && keptAsItCame(body)) {
    // An object or array: measured by its serialization, which is the text itself.
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes <= limit) return { truncated: false, bytes, json: body };
  }
  if (typeof body === 'string') {
    value = undefined;
    if (looksLikeJson(body)) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (keptAsItCame(body)) [value, serialized] = [parsed, body];
        else value = redactJson(parsed, secrets);
      } catch {
        value = undefined;
      }
    }
    if (value === undefined) value = redactText(body, secrets);
  } else {
    value = redactJson(body, secrets);
  }
  serialized ??= JSON.stringify(value) ?? 'null';
  // Text bodies are logged as strings: their size is the text's, not its quoted form's.
  const measured = typeof value === 'string' ? value : serialized;
  const kept = Buffer.byteLength(measured, 'utf8');
  // Text is as large as it came, whatever redaction or a compact serialization made of it.
  const bytes = typeof body === 'string' && measured !== body ? Buffer.byteLength(body, 'utf8') : kept;
  if (kept <= limit) return { body: value, truncated: false, bytes, json: serialized };
  const cut = truncateUtf8(measured, limit);
  return { body: cut, truncated: true, bytes, json: JSON.stringify(cut) };
}

// ---------------------------------------------------------------------------------------------
// The second pass

/**
 * Replaces every collected secret in `text`; where secrets overlap (one containing another, or
 * sharing an end) the whole stretch they cover goes.
 */
export function scrubSecrets(text: string, secrets: SecretSet): string {
  if (secrets.values.size === 0) return text;
  return secrets.matcher.replaceIn(text, REDACTED);
}

/** A JSON string, or a number: the values a secret can sit in (keys are strings too). */
const JSON_VALUE = /"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*/g;

/**
 * `scrubSecrets` for serialized JSON, keeping it JSON. Only values are touched: a string keeps its
 * quotes around `[redacted]`, and with `numbers` a number holding a secret becomes the string
 * `"[redacted]"`. Replacing text anywhere, as before, cut through numbers and punctuation (a
 * numeric password echoed as a count, a bearer token `:false,`) and left a line that no longer
 * parsed. A string is searched in its decoded form, so an escape (`\n` before a secret `n12345`)
 * is never split.
 */
export function scrubJsonSecrets(json: string, secrets: SecretSet, numbers = true): string {
  if (secrets.values.size === 0) return json;
  // Serialized text holds a string's secret in its escaped form (each character escapes alike).
  const forms = secrets.jsonMatcher;
  if (!forms.occursIn(json)) return json;
  return json.replace(JSON_VALUE, (token) => {
    if (!forms.occursIn(token)) return token;
    if (token[0] !== '"') return numbers ? JSON.stringify(REDACTED) : token;
    const value = JSON.parse(token) as string;
    const scrubbed = scrubSecrets(value, secrets);
    return scrubbed === value ? token : JSON.stringify(scrubbed);
  });
}

/** Fewer characters of a secret than this, left at a cut, are not told from ordinary text. */
const MIN_CUT_FRAGMENT = 4;
/** A credential's shape (CREDENTIAL_ANYWHERE) begun at the very end of a text and cut there. */
const TOKEN_CHAR = /[A-Za-z0-9_.-]/;

/**
 * Where a credential's shape (CREDENTIAL_ANYWHERE) begins in the run of token characters that ends
 * the text, cut there: a `scimdesk_` with no `.` after it, or `eyJ` starting a dot-separated part
 * with at most two more dots after it. Found by reading the run once from its end: a regular
 * expression anchored at `$` tried every `scimdesk_` of a long run to the end, and 7,000 of them
 * took 1.5 s to log.
 */
function cutCredentialStart(text: string): number | undefined {
  let start = text.length;
  while (start > 0 && TOKEN_CHAR.test(text[start - 1]!)) start--;
  const run = text.slice(start);
  let found: number | undefined;
  const lastDot = run.lastIndexOf('.');
  const token = run.indexOf('scimdesk_', lastDot + 1);
  if (token >= 0) found = token;
  // A JWT's parts are split by dots: it begins a part, with at most two parts after its own.
  const parts = run.split('.');
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i >= parts.length - 3 && parts[i]!.startsWith('eyJ')) {
      found = Math.min(found ?? at, at);
      break;
    }
    at += parts[i]!.length + 1;
  }
  return found === undefined ? undefined : start + found;
}

/**
 * A text cut short (a body over its limit, an anonymous request's path) with the start of a secret
 * at its end replaced: the second pass looks for whole secrets, and a cut through one left its first
 * characters in clear. The shapes are read too, as a `scimdesk_` token cut before its 16th
 * character no longer has CREDENTIAL_ANYWHERE's shape.
 */
export function withoutCutSecret(text: string, secrets: SecretSet): string {
  let keep = text.length;
  if (secrets.values.size > 0) {
    const fragment = secrets.matcher.prefixAtEnd(text);
    if (fragment >= MIN_CUT_FRAGMENT) keep = text.length - fragment;
  }
  const shape = cutCredentialStart(text);
  if (shape !== undefined && text.length - shape >= MIN_CUT_FRAGMENT) keep = Math.min(keep, shape);
  return keep === text.length ? text : `${text.slice(0, keep)}${REDACTED}`;
}
