export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const MAIN_HELP = `scimdesk — a multi-tenant SCIM 2.0 server with an admin console

Usage:
  scimdesk serve [--host H] [--port P] [--data DIR]   run the server and the web console (headless)
  scimdesk start [--host H] [--port P] [--data DIR]   open the desktop app, or serve headless without it
  scimdesk admin-token [--data DIR] [--ttl 12h]        print a new admin token for the admin API
  scimdesk --version

Run 'scimdesk COMMAND --help' for a command's options.
The data folder defaults to $SCIMDESK_DATA_DIR, else the OS app-data folder (~/.config/scimdesk on Linux).
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
`;

export const ADMIN_TOKEN_HELP = `Usage: scimdesk admin-token [--data DIR] [--ttl DURATION]

Prints a new admin token (as the last line) for the admin API of the server using DIR. Works beside a
running server.

Options:
  --data DIR       data folder (default $SCIMDESK_DATA_DIR, else the OS app-data folder)
  --ttl DURATION   lifetime: seconds, or a number with s, m, h or d (default 12h, at most 30d)
  -h, --help       show this help
`;
