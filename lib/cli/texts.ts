// What the command line prints, kept together so the wording can be compared
// with the original's byte for byte.

export const USAGE_TEXT = `Usage:
    ldirectord [-d|--debug] [--] [configfile] start | stop | restart |
    try-restart | reload | force-reload | status

    ldirectord [--] [configfile] status -j|--json

    ldirectord [-t|--test] [configfile]

    ldirectord [configfile] sync [sync options] [user@]host[:/path]...

    ldirectord [-h|-?|--help|-v|--version]

Options:
    configuration: This is the name for the configuration as specified in
    the file /etc/ha.d/conf/configuration

    -d|--debug Don't start as daemon and log verbosely.

    -t|--test Check the configuration file and exit: 0 if it is valid, 2 if
    not. Every error and warning is printed as file:line: message.

    -h|--help Print user manual and exit.

    -v|--version Print version and exit.

    start the daemon for the specified configuration.

    stop the daemon for the specified configuration. This is the same as
    sending a TERM signal to the running daemon.

    restart the daemon for the specified configuration. The same as stopping
    and starting.

    reload the configuration file. This is the same as sending a HUP signal
    to the running daemon.

    status of the running daemon for the specified configuration. With
    -j|--json: every virtual and real server with its state, weight in the
    IPVS table and last check, as JSON on stdout (exit codes unchanged).

    sync the configuration file to standby directors over SSH: each peer
    validates it with its own ldirectord -t before it replaces the old one.
    See ldirectord(8) for the options.

`;

export const COMMANDS = ['start', 'stop', 'status', 'restart', 'try-restart', 'reload', 'force-reload'] as const;
export type Command = (typeof COMMANDS)[number];

export const configNotFound = (config: string) => `Config file ${config} not found`;
export const unknownOption = (opt: string) => `Unknown option: ${opt}`;

export const EXIT = { ok: 0, generic: 1, configError: 2, notRunning: 3, usage: 255 } as const;
