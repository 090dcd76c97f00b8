export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The commands, each with its own `--help`. */
export const COMMANDS = ['serve', 'start', 'admin-token', 'check', 'seed'] as const;

/** Where a usage error points: the command's own help when the command is known, else the main help. */
export function helpHint(command: string | undefined): string {
  const known = (COMMANDS as readonly (string | undefined)[]).includes(command);
  return known ? `see 'scimdesk ${command} --help'` : "see 'scimdesk --help'";
}

export const MAIN_HELP = `scimdesk — a multi-tenant SCIM 2.0 server with an admin console

Usage:
  scimdesk serve [--host H] [--port P] [--data DIR]   run the server and the web console (headless)
  scimdesk start [--host H] [--port P] [--data DIR]   open the desktop app, or serve headless without it
  scimdesk admin-token [--data DIR] [--ttl 12h]        print a new admin token for the admin API
  scimdesk check --url BASE --token T [--profile P]    check a SCIM endpoint as Entra ID, Okta or RFC 7644 would
  scimdesk seed --url BASE --token T --users N --groups M
                                                       fill a SCIM endpoint with demo users and groups
  scimdesk --version (or -v)

Run 'scimdesk COMMAND --help' (or 'scimdesk help COMMAND') for a command's options.
The data folder defaults to $SCIMDESK_DATA_DIR, else the OS app-data folder ($XDG_CONFIG_HOME/scimdesk,
or ~/.config/scimdesk when that is unset, on Linux).
`;

export const SERVE_HELP = `Usage: scimdesk serve [--host H] [--port P] [--data DIR]

Runs the SCIM server and serves the admin console over HTTP.

Options:
  --host H      address to listen on (default 127.0.0.1; others print a warning)
  --port P      TCP port, 0 for any free port (default 8585)
  --data DIR    data folder (default $SCIMDESK_DATA_DIR, else the OS app-data folder)
  -h, --help    show this help

When ready it prints 'listening on http://H:P', then 'console: URL' with a one-time login code
(valid 10 minutes, single use). SIGTERM or Ctrl-C finishes in-flight requests and exits 0.
`;

export const START_HELP = `Usage: scimdesk start [--host H] [--port P] [--data DIR]

Opens the desktop app. Where the Electron binary or a display is missing, says why in one line and
runs 'scimdesk serve' with the same options instead.

Options:
  --host H      address the server listens on (default 127.0.0.1; others print a warning)
  --port P      TCP port, 0 for any free port (default 8585)
  --data DIR    data folder (default $SCIMDESK_DATA_DIR, else the OS app-data folder)
  -h, --help    show this help
`;

export const ADMIN_TOKEN_HELP = `Usage: scimdesk admin-token [--data DIR] [--ttl DURATION]

Prints a new admin token (as the last line) for the admin API of the server using DIR. Works beside a
running server.

Options:
  --data DIR       data folder (default $SCIMDESK_DATA_DIR, else the OS app-data folder)
  --ttl DURATION   lifetime: seconds, or a number with s, m, h or d (default 12h, at most 30d)
  -h, --help       show this help
`;

export const CHECK_HELP = `Usage: scimdesk check --url BASE --token TOKEN [--profile entra|okta|rfc|all] [--json] [--keep]

Runs scripted provisioning sequences against any SCIM 2.0 base URL and reports, per step, pass,
fail, warning or skipped with the request, the expected and the actual response.

Options:
  --url BASE       the SCIM base URL (http or https), e.g. http://127.0.0.1:8585/scim/v2
  --token TOKEN    bearer token sent as "Authorization: Bearer TOKEN"
  --profile P      rfc (what RFC 7644 requires of every server), entra (what Microsoft Entra ID
                   sends), okta (what Okta sends) or all (default)
  --json           print one JSON document (steps, requests, expected, actual, verdicts)
  --keep           leave the users and groups the run created (deleted by default)
  -h, --help       show this help

Requests go only to BASE. Names are unique per run. Exit code: 0 when every required step passes,
1 when some fail, 2 for usage errors; 130 (Ctrl-C), 143 (SIGTERM) or 129 (a closed terminal) when
stopped, once what the run made is deleted.
`;

export const SEED_HELP = `Usage: scimdesk seed --url BASE --token TOKEN --users N --groups M [--seed S] [--passwords]
                     [--concurrency C]

Fills a SCIM 2.0 server with realistic demo users and groups (names, emails, titles, departments,
managers through the enterprise extension, memberships), the same for the same seed.

Options:
  --url BASE         the SCIM base URL (http or https)
  --token TOKEN      bearer token sent as "Authorization: Bearer TOKEN"
  --users N          number of users (a non-negative integer)
  --groups M         number of groups (a non-negative integer)
  --seed S           generator seed (default 1); the same seed gives the same data
  --passwords        give each user a password (slower: servers hash them)
  --concurrency C    requests in flight (default 16, at most 256)
  -h, --help         show this help

Uses /Bulk when the server's ServiceProviderConfig offers it (within its maxOperations and
maxPayloadSize), one POST per resource otherwise. Retries 429/503 with backoff; stops on 401/403.
Exit code: 0 when everything was created, 1 otherwise, 2 for usage errors; 130 (Ctrl-C), 143
(SIGTERM) or 129 (a closed terminal) when stopped, having said what it created.
`;
