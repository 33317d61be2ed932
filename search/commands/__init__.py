"""One module per `news-search` subcommand; each exposes `register(subparsers)`."""
