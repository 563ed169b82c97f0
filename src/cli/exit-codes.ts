/**
 * The exit codes of every `ctp-notify` command (docs/cli.md). A wrong command line and an
 * invalid configuration share 2: nothing was done, and restarting will not help (systemd:
 * `RestartPreventExitStatus=2`).
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** A runtime failure: the database, a key, a peer, or anything unexpected. */
  failure: 1,
  /**
   * The command line is wrong (unknown command or option, missing or bad argument; the usage
   * follows on stderr), or the configuration is missing or invalid (the message names the field).
   */
  usage: 2,
  /** Done, but some input was skipped (`cardholders import`: the errors are in its output). */
  partial: 3,
} as const;
